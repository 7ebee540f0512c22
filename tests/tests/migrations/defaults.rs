//! `#[column(default = ...)]` and `#[column(backfill = ...)]` on a real
//! PostgreSQL: rendered in DDL, filled in by the server, read back from the
//! catalog, and turned into migrations that need no hand edit.

use ordinance::migrate::{generate, pending_steps, Catalog, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::testing::TestDatabase;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockState {
    Draft,
    Listed,
    Retired,
}

/// The first version: a name only.
#[derive(Entity, Debug, Clone)]
#[entity(table = "products")]
pub struct ProductV1 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The next version: one column per kind of default, and one NOT NULL
/// column without a default that existing rows get through a backfill.
#[derive(Entity, Debug, Clone)]
#[entity(table = "products")]
pub struct ProductV2 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    #[column(default = 0, min = 0)]
    pub stock: i32,
    #[column(default = -1)]
    pub shelf: i64,
    #[column(default = 9.99, precision = 10, scale = 2)]
    pub price: Decimal,
    #[column(default = "it's new", max_len = 20)]
    pub note: String,
    #[column(default = "draft")]
    pub state: StockState,
    #[column(default = true)]
    pub is_visible: bool,
    #[column(default = now)]
    pub listed_at: DateTime<Utc>,
    #[column(default = [])]
    pub tags: Vec<String>,
    #[column(default = [])]
    pub history: serde_json::Value,
    #[column(default = {})]
    pub settings: Option<serde_json::Value>,
    #[column(backfill = 100)]
    pub weight_grams: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[test]
fn defaults_are_rendered_as_typed_constants() {
    let sql = ordinance::ddl::create_table(ProductV2::SCHEMA);
    for line in [
        "\"stock\" INTEGER NOT NULL DEFAULT 0,",
        "\"shelf\" BIGINT NOT NULL DEFAULT -1,",
        "\"price\" NUMERIC(10,2) NOT NULL DEFAULT 9.99,",
        "\"note\" TEXT NOT NULL DEFAULT 'it''s new',",
        "\"state\" TEXT NOT NULL DEFAULT 'draft',",
        "\"is_visible\" BOOLEAN NOT NULL DEFAULT true,",
        "\"listed_at\" TIMESTAMPTZ NOT NULL DEFAULT now(),",
        "\"tags\" TEXT[] NOT NULL DEFAULT '{}',",
        "\"history\" JSONB NOT NULL DEFAULT '[]'::jsonb,",
        "\"settings\" JSONB DEFAULT '{}'::jsonb,",
        "\"weight_grams\" INTEGER NOT NULL,",
    ] {
        assert!(sql.contains(line), "missing {line} in\n{sql}");
    }
}

#[tokio::test]
async fn the_server_fills_in_the_defaults_and_the_catalog_reads_them_back() {
    let db = TestDatabase::with_schema(&ordinance::ddl::create_table(ProductV2::SCHEMA))
        .await
        .expect("db");
    let client = db.connect().await.expect("connect");
    client
        .execute(
            "INSERT INTO products (name, weight_grams) VALUES ('lamp', 900)",
            &[],
        )
        .await
        .expect("insert with defaults");
    let row = client
        .query_one(
            "SELECT stock, shelf, price::text, note, state, is_visible, listed_at > now() - interval '1 minute', \
                    tags, history::text, settings::text FROM products",
            &[],
        )
        .await
        .expect("read");
    assert_eq!(row.get::<_, i32>(0), 0);
    assert_eq!(row.get::<_, i64>(1), -1);
    assert_eq!(row.get::<_, String>(2), "9.99");
    assert_eq!(row.get::<_, String>(3), "it's new");
    assert_eq!(row.get::<_, String>(4), "draft");
    assert!(row.get::<_, bool>(5));
    assert!(row.get::<_, bool>(6));
    assert!(row.get::<_, Vec<String>>(7).is_empty());
    assert_eq!(row.get::<_, String>(8), "[]");
    assert_eq!(row.get::<_, String>(9), "{}");

    let catalog = Catalog::read(&client).await.expect("catalog");
    let columns = &catalog.tables["products"].columns;
    let default = |c: &str| columns[c].default.clone();
    assert_eq!(default("stock").as_deref(), Some("0"));
    assert_eq!(default("price").as_deref(), Some("9.99"));
    assert_eq!(default("state").as_deref(), Some("'draft'::text"));
    assert_eq!(default("is_visible").as_deref(), Some("true"));
    assert_eq!(default("weight_grams"), None);
}

// A changed default is a difference the drift check sees. (Same doc
// comment as the previous version: the table comment stays.)
/// The next version: one column per kind of default, and one NOT NULL
/// column without a default that existing rows get through a backfill.
#[derive(Entity, Debug, Clone)]
#[entity(table = "products")]
pub struct ProductV3 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    #[column(default = 5, min = 0)]
    pub stock: i32,
    #[column(default = -1)]
    pub shelf: i64,
    #[column(default = 9.99, precision = 10, scale = 2)]
    pub price: Decimal,
    #[column(default = "it's new", max_len = 20)]
    pub note: String,
    #[column(default = "listed")]
    pub state: StockState,
    #[column(default = true)]
    pub is_visible: bool,
    #[column(default = now)]
    pub listed_at: DateTime<Utc>,
    #[column(default = [])]
    pub tags: Vec<String>,
    #[column(default = [])]
    pub history: serde_json::Value,
    #[column(default = {})]
    pub settings: Option<serde_json::Value>,
    #[column(backfill = 100)]
    pub weight_grams: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn new_columns_with_defaults_are_one_statement_and_backfills_need_no_hand_edit() {
    let dir = std::env::temp_dir().join(format!("ordinance-defaults-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(
        &[ProductV1::SCHEMA],
        &dir,
        "products",
        Permissions::default(),
    )
    .await
    .expect("v1");
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    let migrations = Migrations::load(&dir).expect("load");
    migrations.contract(&mut client).await.expect("v1 applied");
    for i in 0..7_000 {
        client
            .execute(
                "INSERT INTO products (name) VALUES ($1)",
                &[&format!("item {i}")],
            )
            .await
            .expect("v1 row");
    }

    let steps = pending_steps(&[ProductV2::SCHEMA], &dir, Permissions::default())
        .await
        .expect("diff");
    let expand = &steps[0];
    assert_eq!(expand.label, "expand");
    // Each defaulted column: one ADD COLUMN with its default and NOT NULL,
    // rendered as CREATE TABLE renders it.
    for add in [
        "ALTER TABLE \"products\" ADD COLUMN \"stock\" INTEGER DEFAULT 0 NOT NULL",
        "ALTER TABLE \"products\" ADD COLUMN \"price\" NUMERIC(10,2) DEFAULT 9.99 NOT NULL",
        "ALTER TABLE \"products\" ADD COLUMN \"state\" TEXT DEFAULT 'draft' NOT NULL",
        "ALTER TABLE \"products\" ADD COLUMN \"tags\" TEXT[] DEFAULT '{}' NOT NULL",
        "ALTER TABLE \"products\" ADD COLUMN \"settings\" JSONB DEFAULT '{}'::jsonb",
        // The backfill value stands in as the default until the contract.
        "ALTER TABLE \"products\" ADD COLUMN \"weight_grams\" INTEGER DEFAULT 100 NOT NULL",
    ] {
        assert!(
            expand.up.iter().any(|s| s == add),
            "missing {add} in {:#?}",
            expand.up
        );
    }
    // No batches: the stand-in default filled every row, and the contract
    // phase drops it (the new release always writes the column).
    assert!(!steps.iter().any(|s| s.backfill), "{steps:#?}");
    let contract: Vec<&String> = steps
        .iter()
        .filter(|s| s.phase == ordinance::migrate::Phase::Contract)
        .flat_map(|s| &s.up)
        .collect();
    assert!(
        contract
            .iter()
            .any(|s| *s == "ALTER TABLE \"products\" ALTER COLUMN \"weight_grams\" DROP DEFAULT"),
        "{steps:#?}"
    );
    // The checks the new columns bring are added NOT VALID and validated.
    let all: Vec<&String> = steps.iter().flat_map(|s| &s.up).collect();
    assert!(all.iter().any(|s| s.as_str()
        == "ALTER TABLE \"products\" ADD CONSTRAINT \"products_stock_min\" CHECK (\"stock\" >= 0) NOT VALID"));

    generate(&[ProductV2::SCHEMA], &dir, "stock", Permissions::default())
        .await
        .expect("v2 written");
    let migrations = Migrations::load(&dir).expect("load");
    migrations.contract(&mut client).await.expect("v2 applied");
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE weight_grams = 100 AND stock = 0 AND state = 'draft'), count(*) FROM products",
            &[],
        )
        .await
        .expect("count");
    assert_eq!(row.get::<_, i64>(0), 7_000);
    assert_eq!(row.get::<_, i64>(1), 7_000);
    let nullable: bool = client
        .query_one(
            "SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = 'products'::regclass AND attname = 'weight_grams'",
            &[],
        )
        .await
        .expect("attnotnull")
        .get(0);
    assert!(!nullable, "weight_grams is NOT NULL after the contract");

    // A changed default is drift, and the fix is one SET DEFAULT each way.
    let steps = pending_steps(&[ProductV3::SCHEMA], &dir, Permissions::default())
        .await
        .expect("diff v3");
    assert_eq!(steps.len(), 1, "{steps:#?}");
    assert_eq!(
        steps[0].up,
        [
            "ALTER TABLE \"products\" ALTER COLUMN \"state\" SET DEFAULT 'listed'",
            "ALTER TABLE \"products\" ALTER COLUMN \"stock\" SET DEFAULT 5",
        ]
    );
    assert_eq!(
        steps[0].down,
        [
            "ALTER TABLE \"products\" ALTER COLUMN \"stock\" SET DEFAULT 0",
            "ALTER TABLE \"products\" ALTER COLUMN \"state\" SET DEFAULT 'draft'::text",
        ]
    );
    ordinance_tests::discard_migrations(&dir);
}
