//! The drift guard: the checked-in `migrations/` must build exactly the
//! schema the blog's entities imply. When an entity changes, this fails with
//! the missing migration's SQL; `ORDINANCE_BLESS=<name> cargo test -p
//! ordinance-examples` writes it.

use ordinance_examples::blog_entities::schemas;

#[tokio::test]
async fn blog_migrations_match_the_entities() {
    ordinance::migrate::assert_up_to_date(&schemas(), "migrations").await;
}
