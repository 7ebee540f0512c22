//! `#[ordinance::test]` in a crate without a migrations folder: the test
//! database holds the DDL of every entity linked into the test.

use ordinance::exec::Connection;
use ordinance::repo::Repo;
// Naming a type of the entities' crate links it in, and with it every
// entity it registers.
use ordinance_tests::{NewOrganization, Organization};

#[ordinance::test(entities)]
async fn every_registered_entity_has_its_table(conn: Connection) {
    let registered = ordinance::registered_schemas();
    assert!(
        registered.len() >= 5,
        "the fixture crate's entities are linked"
    );
    let row = conn
        .query_one(
            "SELECT count(*) FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await
        .unwrap();
    let tables: i64 = row.get(0);
    assert_eq!(tables as usize, registered.len());
}

#[ordinance::test]
async fn without_a_folder_the_default_is_the_entities(
    config: tokio_postgres::Config,
    #[fixture(NewOrganization { name: "acme".into(), settings: serde_json::json!({}) })]
    acme: Organization,
) {
    let conn = ordinance::testing::connect(&config).await.unwrap();
    let row = conn
        .query_one(
            "SELECT to_regclass('public.schema_migrations') IS NULL",
            &[],
        )
        .await
        .unwrap();
    assert!(
        row.get::<_, bool>(0),
        "no runner bookkeeping: built from DDL"
    );
    let found: Organization = Repo::new(&conn).get(acme.id).await.unwrap();
    assert_eq!(found, acme);
}
