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

/// A tenant's notes, for the tests below.
#[derive(ordinance::Entity, Debug, Clone, PartialEq)]
#[entity(tenant)]
pub struct Memo {
    pub id: ordinance::prelude::Uuid,
    pub tenant_id: ordinance::prelude::Uuid,
    #[column(max_len = 80)]
    pub body: String,
    pub created_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub updated_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub deleted_at: Option<ordinance::prelude::DateTime<ordinance::prelude::Utc>>,
    pub version: i32,
}

const ACME: ordinance::prelude::Uuid = ordinance::prelude::Uuid::from_u128(0xac);
const GLOBEX: ordinance::prelude::Uuid = ordinance::prelude::Uuid::from_u128(0x610be);

/// A test runs as the application: no superuser, no `BYPASSRLS`, the
/// generated grants; row-level security applies to it. Fixtures of tenant
/// tables say whose they are.
#[ordinance::test(entities)]
async fn the_test_runs_as_the_application_role(
    conn: Connection,
    #[fixture(ordinance::testing::for_tenant(ACME, NewMemo { body: "acme's".into() }))] acme: Memo,
    #[fixture(ordinance::testing::for_tenant(GLOBEX, vec![NewMemo { body: "globex 1".into() }, NewMemo { body: "globex 2".into() }]))]
    globex: Vec<Memo>,
) {
    assert_eq!(acme.tenant_id, ACME);
    assert!(globex.iter().all(|m| m.tenant_id == GLOBEX));
    let row = conn
        .query_one(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, bool>(0), row.get::<_, bool>(1)),
        (false, false)
    );
    // No tenant set: row-level security shows nothing (a superuser would
    // see all three memos).
    assert_eq!(Repo::new(&conn).count::<Memo>().await.unwrap(), 0);
    // The application role cannot change the schema.
    let err = conn.batch_execute("DROP TABLE memos").await.unwrap_err();
    assert!(matches!(
        ordinance::Error::from(err),
        ordinance::Error::PermissionDenied { .. }
    ));
    // In the tenant's transaction it sees the tenant's rows only (the
    // closure's `&mut Transaction` taken by reference, as the guide writes
    // it).
    let mut conn = conn;
    let seen = ordinance::exec::transaction(&mut conn, async |tx| {
        ordinance::exec::set_scope(&tx, ordinance::exec::Scope::tenant(GLOBEX)).await?;
        Repo::new(&tx).count::<Memo>().await
    })
    .await
    .unwrap();
    assert_eq!(seen, 2);
}

/// The owner, for what the application cannot do, is one argument away.
#[ordinance::test(entities)]
async fn the_owner_is_the_database_handle(db: &ordinance::testing::TestDatabase) {
    let owner = db.connect().await.unwrap();
    let row = owner
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the throwaway server's owner");
    let app = db.connect_as_app().await.unwrap();
    assert_ne!(
        app.query_one("SELECT current_user::text", &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "postgres"
    );
}

/// A tenant table's fixture without a tenant fails, saying how to give one.
#[ordinance::test(entities)]
#[should_panic(
    expected = "say whose the row is, #[fixture(ordinance::testing::for_tenant(tenant_id, ...))]"
)]
async fn a_tenant_fixture_without_its_tenant_says_how_to_give_one(
    _conn: Connection,
    #[fixture(NewMemo { body: "whose?".into() })] _memo: Memo,
) {
}
