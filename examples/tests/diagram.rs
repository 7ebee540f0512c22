//! The blog's checked-in diagrams (`examples/schema/`) are the ones its
//! entities draw now; when an entity changes, this fails with the commands
//! that draw them again.

use ordinance_examples::blog_entities::schemas;

fn assert_current(file: &str, drawn: &str, format: &str) {
    let path = format!("{}/schema/{file}", env!("CARGO_MANIFEST_DIR"));
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == drawn,
        "{path} is stale; draw it again with\n    \
         cargo run -p ordinance-examples --example blog-cli -- diagram {format} > examples/schema/{file}\n\
         (and for the SVG: dot -Tsvg examples/schema/blog.dot > examples/schema/blog.svg)"
    );
}

#[test]
fn the_checked_in_diagrams_are_current() {
    assert_current(
        "blog.mmd",
        &ordinance::diagram::mermaid(&schemas()),
        "mermaid",
    );
    assert_current("blog.dot", &ordinance::diagram::dot(&schemas()), "dot");
}

#[test]
fn the_diagram_shows_every_relation_with_its_cardinality() {
    let mermaid = ordinance::diagram::mermaid(&schemas());
    for line in [
        "users ||--o{ posts : author_id",
        "users |o--o{ comments : author_id",
        "comments |o--o{ comments : parent_id",
        "posts ||--o{ post_tags : post_id",
        "tags ||--o{ post_tags : tag_id",
        "users[\"users (soft delete, versioned)\"] {",
        "text email UK",
    ] {
        assert!(mermaid.contains(line), "{line:?} missing from\n{mermaid}");
    }
}
