//! The blog's own command line, as an application would ship it in
//! `src/bin/migrate.rs`: the migration commands with the migrations built
//! in, and `diagram` drawing the blog's entities.
//!
//! ```text
//! cargo run --example blog-cli -- diagram mermaid > examples/schema/blog.mmd
//! cargo run --example blog-cli -- --database-url postgres://... status
//! ```

use ordinance_examples::blog_entities::schemas;

fn main() -> std::process::ExitCode {
    ordinance::cli::main_with_entities(ordinance::embed_migrations!("migrations"), &schemas())
}
