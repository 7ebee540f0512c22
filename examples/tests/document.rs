//! The blog's checked-in schema document (`examples/schema/DATABASE.md`) is
//! the one its entities write now; when an entity changes, this fails with
//! the command that writes it again.

use ordinance_examples::blog_entities::schemas;

#[test]
fn the_checked_in_schema_document_is_current() {
    ordinance::document::assert_up_to_date(&schemas(), "schema/DATABASE.md");
}

#[test]
fn the_document_describes_relations_both_ways_and_what_indexes_serve() {
    let doc = ordinance::document::markdown(&schemas());
    for expected in [
        "belongs to `users` through `author_id` (many-to-one)",
        "has `posts` through `posts`.`author_id` (one-to-many, `ON DELETE CASCADE`)",
        "many-to-many with `tags` through `post_tags` (`post_id`, `tag_id`)",
        "many-to-many with `posts` through `post_tags` (`tag_id`, `post_id`)",
        "```mermaid\nerDiagram\n",
    ] {
        assert!(doc.contains(expected), "{expected:?} missing from\n{doc}");
    }
}
