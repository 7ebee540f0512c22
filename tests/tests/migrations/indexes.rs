//! Richer indexes on a real PostgreSQL: partial on an enum value or a
//! boolean, `lower(col)`, GIN on JSONB and arrays, `INCLUDE` columns —
//! rendered, accepted by the server, used by the planner, and created,
//! renamed and dropped concurrently by the migration generator.

use ordinance::migrate::{check_drift, generate, pending_steps, Drift, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    Open,
    Closed,
}

// The first version: no extra indexes. (The three versions share one doc
// comment, so the table comment does not change between them.)
/// Support tickets.
#[derive(Entity, Debug, Clone)]
#[entity(table = "tickets")]
pub struct TicketV1 {
    pub id: Uuid,
    #[column(max_len = 120)]
    pub email: String,
    #[column(max_len = 200)]
    pub title: String,
    pub state: TicketState,
    pub is_pinned: bool,
    pub tags: Vec<String>,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

// Every kind of index.
/// Support tickets.
#[derive(Entity, Debug, Clone)]
#[entity(
    table = "tickets",
    index(created_at desc, where(state = "open")),
    index(updated_at, where(is_pinned)),
    unique(lower(email)),
    index(tags, using = "gin"),
    index(settings, using = "gin"),
    index(state, include(title))
)]
pub struct TicketV2 {
    pub id: Uuid,
    #[column(max_len = 120)]
    pub email: String,
    #[column(max_len = 200)]
    pub title: String,
    pub state: TicketState,
    pub is_pinned: bool,
    pub tags: Vec<String>,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

// The open-tickets index renamed; the GIN index on settings gone.
/// Support tickets.
#[derive(Entity, Debug, Clone)]
#[entity(
    table = "tickets",
    index(created_at desc, where(state = "open"), name = "idx_tickets_open_by_age"),
    index(updated_at, where(is_pinned)),
    unique(lower(email)),
    index(tags, using = "gin"),
    index(state, include(title))
)]
pub struct TicketV3 {
    pub id: Uuid,
    #[column(max_len = 120)]
    pub email: String,
    #[column(max_len = 200)]
    pub title: String,
    pub state: TicketState,
    pub is_pinned: bool,
    pub tags: Vec<String>,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const EXPECTED: [&str; 6] = [
    "CREATE INDEX \"idx_tickets_created_at_open\" ON \"tickets\" (\"created_at\" DESC) WHERE \"deleted_at\" IS NULL AND \"state\" = 'open'",
    "CREATE INDEX \"idx_tickets_updated_at_is_pinned\" ON \"tickets\" (\"updated_at\") WHERE \"deleted_at\" IS NULL AND \"is_pinned\" = true",
    "CREATE UNIQUE INDEX \"idx_tickets_lower_email_unique\" ON \"tickets\" (lower(\"email\")) WHERE \"deleted_at\" IS NULL",
    "CREATE INDEX \"idx_tickets_tags\" ON \"tickets\" USING gin (\"tags\") WHERE \"deleted_at\" IS NULL",
    "CREATE INDEX \"idx_tickets_settings\" ON \"tickets\" USING gin (\"settings\") WHERE \"deleted_at\" IS NULL",
    "CREATE INDEX \"idx_tickets_state\" ON \"tickets\" (\"state\") INCLUDE (\"title\") WHERE \"deleted_at\" IS NULL",
];

#[test]
fn each_kind_of_index_is_rendered_from_its_declaration() {
    let ddl = ordinance::ddl::create_table(TicketV2::SCHEMA);
    for index in EXPECTED {
        assert!(
            ddl.contains(&format!("{index};\n")),
            "missing {index} in\n{ddl}"
        );
    }
}

fn new_ticket(email: &str, state: TicketState) -> NewTicketV2 {
    NewTicketV2 {
        email: email.into(),
        title: format!("about {email}"),
        state,
        is_pinned: false,
        tags: vec!["billing".into()],
        settings: serde_json::json!({ "priority": "high" }),
    }
}

async fn plan(client: &tokio_postgres::Client, sql: &str) -> String {
    let rows = client
        .query(&format!("EXPLAIN {sql}"), &[])
        .await
        .expect("explain");
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_server_builds_them_and_the_planner_uses_them() {
    let db = TestDatabase::with_schema(&ordinance::ddl::create_table(TicketV2::SCHEMA))
        .await
        .expect("db");
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    repo.insert(&new_ticket("Ada@Example.com", TicketState::Open))
        .await
        .expect("insert");
    // lower(email) is unique among live rows: case does not make a second.
    let err = repo
        .insert(&new_ticket("ada@example.COM", TicketState::Closed))
        .await
        .expect_err("same address, other case");
    assert!(matches!(&err, Error::UniqueViolation { .. }), "{err:?}");
    assert!(
        err.to_string().contains("idx_tickets_lower_email_unique"),
        "{err}"
    );

    // Enough rows, each with its own tag and settings, for the planner to
    // pick the selective index over a full scan of another.
    let rows: Vec<NewTicketV2> = (0..5_000)
        .map(|i| NewTicketV2 {
            email: format!("user{i}@example.com"),
            title: format!("ticket {i}"),
            state: if i % 10 == 0 {
                TicketState::Open
            } else {
                TicketState::Closed
            },
            is_pinned: i % 100 == 0,
            tags: vec![format!("t{i}")],
            settings: serde_json::json!({ "n": i }),
        })
        .collect();
    let mut client = client;
    ordinance::batch::insert_many_count(&mut client, &rows)
        .await
        .expect("rows");
    // Sequential scans off: the question is which index, not whether one.
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .expect("settings");
    // Vacuumed, so the covering index answers without visiting the table.
    client
        .batch_execute("VACUUM ANALYZE tickets")
        .await
        .expect("vacuum");
    let pinned = plan(
        &client,
        "SELECT id FROM tickets WHERE is_pinned AND deleted_at IS NULL ORDER BY updated_at LIMIT 5",
    )
    .await;
    assert!(
        pinned.contains("idx_tickets_updated_at_is_pinned"),
        "{pinned}"
    );
    for (query, index) in [
        (
            "SELECT id FROM tickets WHERE state = 'open' AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 10",
            "idx_tickets_created_at_open",
        ),
        (
            "SELECT id FROM tickets WHERE tags @> ARRAY['t42'] AND deleted_at IS NULL",
            "idx_tickets_tags",
        ),
        (
            "SELECT id FROM tickets WHERE settings @> '{\"n\": 42}' AND deleted_at IS NULL",
            "idx_tickets_settings",
        ),
        (
            "SELECT id FROM tickets WHERE lower(email) = 'user42@example.com' AND deleted_at IS NULL",
            "idx_tickets_lower_email_unique",
        ),
    ] {
        let plan = plan(&client, query).await;
        assert!(plan.contains(index), "{query} should use {index}:\n{plan}");
    }
    // GIN indexes are read through bitmaps; with those off too, the
    // covering index answers without visiting the table.
    client
        .batch_execute("SET enable_bitmapscan = off")
        .await
        .expect("settings");
    let covering = plan(
        &client,
        "SELECT title FROM tickets WHERE state = 'closed' AND deleted_at IS NULL",
    )
    .await;
    assert!(
        covering.contains("Index Only Scan using idx_tickets_state"),
        "{covering}"
    );
}

#[tokio::test]
async fn the_generator_creates_renames_and_drops_them_concurrently() {
    let dir = std::env::temp_dir().join(format!("ordinance-indexes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(&[TicketV1::SCHEMA], &dir, "tickets", Permissions::default())
        .await
        .expect("v1");
    let steps = pending_steps(&[TicketV2::SCHEMA], &dir, Permissions::default())
        .await
        .expect("diff v2");
    let labels: Vec<&str> = steps.iter().map(|s| s.label).collect();
    assert_eq!(labels, ["index", "contract_index"]);
    // Plain indexes help the previous version: built in the expand phase;
    // the unique one binds writers: built in the contract phase.
    for index in EXPECTED {
        let concurrent = index.replacen("INDEX ", "INDEX CONCURRENTLY IF NOT EXISTS ", 1);
        let step = if index.starts_with("CREATE UNIQUE") {
            &steps[1]
        } else {
            &steps[0]
        };
        assert!(
            step.up.contains(&concurrent),
            "missing {concurrent} in {:#?}",
            step.up
        );
        assert!(!step.transactional);
    }
    generate(&[TicketV2::SCHEMA], &dir, "indexes", Permissions::default())
        .await
        .expect("v2 written");
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    Migrations::load(&dir)
        .expect("load")
        .contract(&mut client)
        .await
        .expect("v2 applied");
    assert_eq!(
        check_drift(&[TicketV2::SCHEMA], &dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );

    // A new name is a rename, not a rebuild; a removed index is dropped
    // concurrently in the contract phase.
    let steps = pending_steps(&[TicketV3::SCHEMA], &dir, Permissions::default())
        .await
        .expect("diff v3");
    assert_eq!(steps.len(), 2, "{steps:#?}");
    assert_eq!(
        steps[0].up,
        ["ALTER INDEX \"idx_tickets_created_at_open\" RENAME TO \"idx_tickets_open_by_age\""]
    );
    assert_eq!(
        steps[0].down,
        ["ALTER INDEX \"idx_tickets_open_by_age\" RENAME TO \"idx_tickets_created_at_open\""]
    );
    assert_eq!(steps[1].label, "contract_index");
    assert_eq!(
        steps[1].up,
        ["DROP INDEX CONCURRENTLY IF EXISTS \"idx_tickets_settings\""]
    );
    generate(
        &[TicketV3::SCHEMA],
        &dir,
        "rename_index",
        Permissions::default(),
    )
    .await
    .expect("v3 written");
    let migrations = Migrations::load(&dir).expect("load");
    migrations.contract(&mut client).await.expect("v3 applied");
    assert_eq!(
        check_drift(&[TicketV3::SCHEMA], &dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );
    ordinance_tests::discard_migrations(&dir);
}
