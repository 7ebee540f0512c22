//! Migrations on a real PostgreSQL: generated from entities, applied with
//! data in the tables, drift-checked, run concurrently, refused when edited.

use std::path::{Path, PathBuf};

use ordinance::migrate::{
    check_drift, generate, pending_steps, Catalog, Drift, Migrations, Permissions,
};
use ordinance::prelude::*;
use ordinance::testing::TestDatabase;
use ordinance::{Error, TableSchema};
use ordinance_tests::{all_schemas, Folder};
use tokio_postgres::Client;

// Successive versions of one table, as an application's entity evolves.

#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetV1 {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// V1 plus a nullable column and one with a default.
#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetV2 {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub name: String,
    pub note: Option<String>,
    // Elements may be NULL: no check, so adding the column is one step
    // (a `Vec<String>` adds a NOT VALID check and its validation).
    pub tags: Vec<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// V2 with a wider check and an index.
#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetV3 {
    pub id: Uuid,
    #[column(max_len = 200, index)]
    pub name: String,
    pub note: Option<String>,
    pub tags: Vec<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// V3 with `note` renamed and made NOT NULL (its value for the rows
/// without one to be written into the backfill by hand), and a new NOT
/// NULL column whose backfill value stands in as its default.
#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetV4 {
    pub id: Uuid,
    #[column(max_len = 200, index)]
    pub name: String,
    #[column(renamed_from = "note")]
    pub remark: String,
    pub tags: Vec<Option<String>>,
    #[column(backfill = true)]
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A new entity referencing widgets.
#[derive(Entity, Debug)]
pub struct Gadget {
    pub id: Uuid,
    #[column(references = WidgetV4, on_delete = "cascade")]
    pub widget_id: Uuid,
    #[column(max_len = 40)]
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const ALLOW: Permissions = Permissions {
    allow_destructive: true,
};

/// A whole deploy: the expand phase and the contract phase.
async fn apply(dir: &Path, client: &mut Client) -> Vec<String> {
    Migrations::load(dir)
        .expect("load")
        .contract(client)
        .await
        .expect("apply")
        .into_iter()
        .map(|a| a.name)
        .collect()
}

async fn count(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.expect(sql).get(0)
}

/// The drift check passes, and the applied database has the entities' schema.
async fn assert_matches(schemas: &[&'static TableSchema], dir: &Path) {
    assert!(
        pending_steps(schemas, dir, Permissions::default())
            .await
            .expect("compare")
            .is_empty(),
        "the migrations produce the entities' schema"
    );
}

/// The migrations written (not the statement catalog), by name.
fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy();
            name.split_once('_').expect("version_").1.to_owned()
        })
        .collect()
}

#[tokio::test]
async fn all_ups_give_the_entities_schema_and_all_downs_empty_the_database() {
    let dir = Folder::new();
    let schemas = all_schemas();
    let written = generate(&schemas, &dir, "create", Permissions::default())
        .await
        .expect("generate");
    assert_eq!(file_names(&written), ["create.up.sql", "create.down.sql"]);
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    assert_eq!(apply(&dir, &mut client).await, ["create"]);

    let expected_ddl = ordinance::ddl::SchemaDdl::new(&schemas).expect("ddl").up();
    let expected = TestDatabase::with_schema(&expected_ddl).await.expect("db");
    assert_eq!(
        Catalog::read(&client).await.expect("read"),
        Catalog::read(&expected.connect().await.expect("connect"))
            .await
            .expect("read"),
        "columns, types, defaults, constraints, indexes and comments all match"
    );
    assert_eq!(
        Catalog::read(&client).await.expect("read").tables.len(),
        schemas.len()
    );
    // Nothing more to write.
    assert!(generate(&schemas, &dir, "again", Permissions::default())
        .await
        .expect("generate")
        .is_empty());

    let reverted = Migrations::load(&dir)
        .expect("load")
        .down_to(&mut client, 0)
        .await
        .expect("down");
    assert_eq!(reverted.len(), 1);
    assert!(Catalog::read(&client)
        .await
        .expect("read")
        .tables
        .is_empty());
    assert_eq!(
        count(&client, "SELECT count(*) FROM schema_migrations").await,
        0
    );
}

#[tokio::test]
async fn each_kind_of_change_migrates_a_table_holding_data() {
    let dir = Folder::new();
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");

    generate(&[WidgetV1::SCHEMA], &dir, "widgets", Permissions::default())
        .await
        .expect("v1");
    apply(&dir, &mut client).await;
    client
        .batch_execute(
            "INSERT INTO widgets (id, name) SELECT gen_random_uuid(), 'w' || i FROM generate_series(1, 1000) i",
        )
        .await
        .expect("data");

    // Add columns: nullable, and NOT NULL with a default (one step each way).
    let written = generate(
        &[WidgetV2::SCHEMA],
        &dir,
        "add_note",
        Permissions::default(),
    )
    .await
    .expect("v2");
    assert_eq!(
        file_names(&written),
        ["add_note.up.sql", "add_note.down.sql"]
    );
    let up = std::fs::read_to_string(&written[0]).expect("read");
    assert!(up.contains("ADD COLUMN \"note\" TEXT;"), "{up}");
    assert!(
        up.contains("ADD COLUMN \"tags\" TEXT[] DEFAULT '{}' NOT NULL"),
        "{up}"
    );
    apply(&dir, &mut client).await;
    assert_matches(&[WidgetV2::SCHEMA], &dir).await;
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM widgets WHERE tags = '{}' AND note IS NULL"
        )
        .await,
        1000
    );

    // A wider check (the old one dropped in the expand phase, the new one
    // added NOT VALID in the contract phase and validated in a later
    // migration) and a new index (concurrently, outside a transaction, in
    // the expand phase).
    let written = generate(&[WidgetV3::SCHEMA], &dir, "widen", Permissions::default())
        .await
        .expect("v3");
    assert_eq!(
        file_names(&written),
        [
            "widen.up.sql",
            "widen.down.sql",
            "widen_index.up.sql",
            "widen_index.down.sql",
            "widen_contract.up.sql",
            "widen_contract.down.sql",
            "widen_validate.up.sql",
            "widen_validate.down.sql",
        ]
    );
    let expand = std::fs::read_to_string(&written[0]).expect("read");
    assert!(
        expand.contains("DROP CONSTRAINT \"widgets_name_max_length\""),
        "{expand}"
    );
    let contract = std::fs::read_to_string(&written[4]).expect("read");
    assert!(
        contract.starts_with("-- ordinance:contract\n"),
        "{contract}"
    );
    assert!(contract.contains("NOT VALID"), "{contract}");
    let validate = std::fs::read_to_string(&written[6]).expect("read");
    assert!(
        validate.contains("VALIDATE CONSTRAINT \"widgets_name_max_length\""),
        "{validate}"
    );
    let index = std::fs::read_to_string(&written[2]).expect("read");
    assert!(
        index.starts_with("-- ordinance:no-transaction\n"),
        "{index}"
    );
    assert!(
        // Rendered as CREATE TABLE renders indexes, not as the server prints them.
        index.contains(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"idx_widgets_name\" ON \"widgets\" (\"name\") WHERE \"deleted_at\" IS NULL;"
        ),
        "{index}"
    );
    apply(&dir, &mut client).await;
    assert_matches(&[WidgetV3::SCHEMA], &dir).await;
    client
        .execute(
            "INSERT INTO widgets (id, name) VALUES (gen_random_uuid(), repeat('x', 150))",
            &[],
        )
        .await
        .expect("150 characters fit the wider check");

    // A rename (by attribute) made NOT NULL: the contract phase backfills
    // it in batches (once someone writes the value), then adds a NOT VALID
    // check, validates it and sets NOT NULL. A new NOT NULL column with a
    // backfill value arrives with that value as its default, NOT NULL at
    // once (no rewrite); the contract phase drops the default.
    let written = generate(&[WidgetV4::SCHEMA], &dir, "rename", Permissions::default())
        .await
        .expect("v4");
    assert_eq!(
        file_names(&written),
        [
            "rename.up.sql",
            "rename.down.sql",
            "rename_backfill.up.sql",
            "rename_backfill.down.sql",
            "rename_contract.up.sql",
            "rename_contract.down.sql",
            "rename_validate.up.sql",
            "rename_validate.down.sql",
        ]
    );
    let change = std::fs::read_to_string(&written[0]).expect("read");
    assert!(
        change.contains("RENAME COLUMN \"note\" TO \"remark\""),
        "{change}"
    );
    assert!(
        change.contains("ADD COLUMN \"is_active\" BOOLEAN DEFAULT true NOT NULL;"),
        "{change}"
    );
    let migrations = Migrations::load(&dir).expect("load");
    assert_eq!(migrations.pending(&client).await.expect("pending").len(), 4);
    // The expand phase applies alone; the contract phase refuses to run
    // until the backfill's value is written, and applies nothing meanwhile.
    let expanded = migrations.up(&mut client).await.expect("expand");
    assert_eq!(
        expanded.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["rename"]
    );
    match migrations.contract(&mut client).await {
        Err(Error::MigrationNeedsFilling { name, .. }) => assert_eq!(name, "rename_backfill"),
        other => panic!("expected the unfilled backfill to be refused, got {other:?}"),
    }
    assert_eq!(migrations.pending(&client).await.expect("pending").len(), 3);
    let backfill = dir.join(
        file_names(&written)[2].replace("rename", &format!("{}_rename", expanded[0].version + 1)),
    );
    let backfill = if backfill.exists() {
        backfill
    } else {
        written[2].clone()
    };
    let text = std::fs::read_to_string(&backfill).expect("read");
    let filled: String = text
        .lines()
        .filter(|l| !l.contains("ordinance:fill-in") && !l.starts_with("-- of FILL_IN"))
        .map(|l| l.replace("FILL_IN", "'kept'") + "\n")
        .collect();
    std::fs::write(&backfill, filled).expect("fill in");
    // Traced: a span per migration, one per backfill batch under it.
    let (captured, traced) = ordinance_tests::spans::Captured::install();
    let contracted = Migrations::load(&dir)
        .expect("load")
        .backfill_pause(std::time::Duration::ZERO)
        .contract(&mut client)
        .await
        .expect("contract");
    drop(traced);
    assert_eq!(contracted.len(), 3);
    let migrations = captured.named("ordinance.migration");
    let names: Vec<&str> = migrations.iter().map(|(_, f)| f["name"].as_str()).collect();
    assert_eq!(names.len(), 3, "{migrations:?}");
    assert!(names.contains(&"rename_backfill"), "{names:?}");
    let batches = captured.named("ordinance.backfill.batch");
    assert!(!batches.is_empty(), "{batches:?}");
    for (id, fields) in &batches {
        assert_eq!(captured.ancestors(*id), ["ordinance.migration"]);
        assert!(
            fields.contains_key("rows") && fields.contains_key("version"),
            "{fields:?}"
        );
    }
    let filled: i64 = batches
        .iter()
        .map(|(_, f)| f["rows"].parse::<i64>().unwrap_or(0))
        .sum();
    assert!(filled >= 1001, "the batches filled {filled} rows");
    assert_matches(&[WidgetV4::SCHEMA], &dir).await;
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM widgets WHERE remark = 'kept' AND is_active"
        )
        .await,
        1001
    );

    // A new entity with a foreign key.
    generate(
        &[WidgetV4::SCHEMA, Gadget::SCHEMA],
        &dir,
        "gadgets",
        Permissions::default(),
    )
    .await
    .expect("gadgets");
    apply(&dir, &mut client).await;
    assert_matches(&[WidgetV4::SCHEMA, Gadget::SCHEMA], &dir).await;
    client
        .batch_execute(
            "INSERT INTO gadgets (id, widget_id, label) SELECT gen_random_uuid(), id, 'g' FROM widgets LIMIT 5",
        )
        .await
        .expect("gadgets reference widgets");

    // Dropping a column or a table needs permission.
    match generate(&[WidgetV1::SCHEMA], &dir, "drop", Permissions::default()).await {
        Err(Error::DestructiveChange(what)) => {
            let what = what.join("; ");
            assert!(what.contains("drop table \"gadgets\""), "{what}");
            assert!(
                what.contains("drop column \"widgets\".\"remark\""),
                "{what}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    generate(&[WidgetV1::SCHEMA], &dir, "drop", ALLOW)
        .await
        .expect("drop with permission");
    // V1's narrower check would not validate with the long name in place.
    client
        .batch_execute("DELETE FROM widgets WHERE length(name) > 100")
        .await
        .expect("delete");
    apply(&dir, &mut client).await;
    assert_matches(&[WidgetV1::SCHEMA], &dir).await;
    assert_eq!(
        count(&client, "SELECT count(*) FROM widgets").await,
        1000,
        "rows survive"
    );

    // And every step down again, to nothing.
    Migrations::load(&dir)
        .expect("load")
        .down_to(&mut client, 0)
        .await
        .expect("all downs");
    assert!(Catalog::read(&client)
        .await
        .expect("read")
        .tables
        .is_empty());
}

#[tokio::test]
async fn eight_concurrent_runners_apply_each_migration_once() {
    let dir = Folder::new();
    generate(&[WidgetV1::SCHEMA], &dir, "widgets", Permissions::default())
        .await
        .expect("generate");
    dir.write(
        "20990101000000_log.up.sql",
        "CREATE TABLE run_log (n int);\nINSERT INTO run_log VALUES (1);\n",
    );
    dir.write(
        "20990101000001_log_again.up.sql",
        "INSERT INTO run_log VALUES (2);\n",
    );
    // A concurrent index build waits for every running transaction's
    // snapshot: runners waiting for the lock must not hold one.
    dir.write(
        "20990101000002_log_index.up.sql",
        "-- ordinance:no-transaction\nCREATE INDEX CONCURRENTLY run_log_n ON run_log (n);\n",
    );
    let db = TestDatabase::create().await.expect("db");
    let mut runners = Vec::new();
    for _ in 0..8 {
        let mut client = db.connect().await.expect("connect");
        let dir = dir.to_path_buf();
        runners.push(tokio::spawn(async move {
            Migrations::load(&dir)
                .expect("load")
                .up(&mut client)
                .await
                .map(|applied| applied.len())
        }));
    }
    let mut applied = 0;
    for r in runners {
        applied += r.await.expect("runner").expect("no runner fails");
    }
    assert_eq!(applied, 4, "each migration applied by exactly one runner");
    let client = db.connect().await.expect("connect");
    assert_eq!(count(&client, "SELECT count(*) FROM run_log").await, 2);
    assert_eq!(
        count(&client, "SELECT count(*) FROM schema_migrations").await,
        4
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'run_log_n'::regclass AND indisvalid"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_failing_transactional_migration_leaves_no_trace() {
    let dir = Folder::new();
    dir.write("20990101000000_half.up.sql",
        "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nINSERT INTO half VALUES ('not a number');\n",
    );
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    match Migrations::load(&dir).expect("load").up(&mut client).await {
        Err(Error::MigrationFailed {
            version,
            statement,
            sql,
            ..
        }) => {
            assert_eq!(version, 20990101000000);
            assert_eq!(statement, 3);
            assert_eq!(sql, "INSERT INTO half VALUES ('not a number')");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM schema_migrations").await,
        0
    );
}

#[tokio::test]
async fn an_edited_or_missing_applied_migration_is_refused() {
    let dir = Folder::new();
    dir.write("20990101000000_one.up.sql", "CREATE TABLE one (x int);\n");
    dir.write("20990101000001_two.up.sql", "CREATE TABLE two (x int);\n");
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    apply(&dir, &mut client).await;

    dir.write(
        "20990101000000_one.up.sql",
        "CREATE TABLE one (x bigint);\n",
    );
    dir.write(
        "20990101000002_three.up.sql",
        "CREATE TABLE three (x int);\n",
    );
    let migrations = Migrations::load(&dir).expect("load");
    match migrations.up(&mut client).await {
        Err(
            e @ Error::MigrationChanged {
                version: 20990101000000,
                ..
            },
        ) => {
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        other => panic!("expected a checksum refusal, got {other:?}"),
    }
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'three'"
        )
        .await,
        0,
        "nothing ran"
    );
    assert!(matches!(
        migrations.dry_run(&client).await,
        Err(Error::MigrationChanged { .. })
    ));

    dir.write("20990101000000_one.up.sql", "CREATE TABLE one (x int);\n");
    std::fs::remove_file(dir.join("20990101000001_two.up.sql")).expect("remove");
    assert!(matches!(
        Migrations::load(&dir).expect("load").up(&mut client).await,
        Err(Error::MigrationMissing {
            version: 20990101000001,
            ..
        })
    ));
    // Without a down file there is no reverting.
    dir.write("20990101000001_two.up.sql", "CREATE TABLE two (x int);\n");
    assert!(matches!(
        Migrations::load(&dir)
            .expect("load")
            .down_to(&mut client, 0)
            .await,
        Err(Error::NoDownMigration { .. })
    ));
}

#[tokio::test]
async fn the_dry_run_lists_what_would_run_and_changes_nothing() {
    let dir = Folder::new();
    generate(&[WidgetV1::SCHEMA], &dir, "widgets", Permissions::default())
        .await
        .expect("generate");
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    let migrations = Migrations::load(&dir).expect("load");
    let plan = migrations.dry_run(&client).await.expect("dry run");
    assert!(plan.contains("-- would apply "), "{plan}");
    assert!(plan.contains("_widgets"), "{plan}");
    assert!(plan.contains("CREATE TABLE \"widgets\""), "{plan}");
    assert!(Catalog::read(&client)
        .await
        .expect("read")
        .tables
        .is_empty());
    migrations.up(&mut client).await.expect("up");
    assert_eq!(
        migrations.dry_run(&client).await.expect("dry run"),
        "nothing to apply\n"
    );
}

#[tokio::test]
async fn the_drift_check_fails_on_a_new_field_and_passes_after_blessing() {
    let dir = Folder::new();
    generate(&[WidgetV1::SCHEMA], &dir, "widgets", Permissions::default())
        .await
        .expect("generate");
    assert_eq!(
        check_drift(&[WidgetV1::SCHEMA], &dir, None, Permissions::default())
            .await
            .expect("check"),
        Drift::UpToDate
    );
    match check_drift(&[WidgetV2::SCHEMA], &dir, None, Permissions::default())
        .await
        .expect("check")
    {
        Drift::Missing { sql, bless_command } => {
            assert!(sql.contains("ADD COLUMN \"note\" TEXT"), "{sql}");
            // The exact command: this package, this test binary, this test.
            assert_eq!(
                bless_command,
                "ORDINANCE_BLESS=<name> cargo test -p ordinance-tests --test migrations \
                 migrate::the_drift_check_fails_on_a_new_field_and_passes_after_blessing -- --exact"
            );
        }
        other => panic!("expected drift, got {other:?}"),
    }
    let blessed = check_drift(
        &[WidgetV2::SCHEMA],
        &dir,
        Some("add note"),
        Permissions::default(),
    )
    .await
    .expect("bless");
    match blessed {
        Drift::Blessed(files) => {
            assert_eq!(file_names(&files), ["add_note.up.sql", "add_note.down.sql"])
        }
        other => panic!("expected files, got {other:?}"),
    }
    assert_eq!(
        check_drift(&[WidgetV2::SCHEMA], &dir, None, Permissions::default())
            .await
            .expect("check"),
        Drift::UpToDate
    );

    // The assertion form panics with the SQL and the command to run.
    let dir2 = dir.to_path_buf();
    let failed = tokio::spawn(async move {
        ordinance::migrate::assert_up_to_date(&[WidgetV3::SCHEMA], &dir2).await;
    })
    .await
    .expect_err("drift fails the test");
    let message = failed
        .into_panic()
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("ORDINANCE_BLESS=<name> cargo test -p ordinance-tests --test migrations"),
        "{message}"
    );
    assert!(message.contains("VALIDATE CONSTRAINT"), "{message}");
}

/// V1 with a unique name.
#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetUnique {
    pub id: Uuid,
    #[column(max_len = 100, unique)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn a_failed_concurrent_index_build_is_rebuilt_when_rerun() {
    let dir = Folder::new();
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    generate(&[WidgetV1::SCHEMA], &dir, "widgets", Permissions::default())
        .await
        .expect("v1");
    apply(&dir, &mut client).await;
    client
        .batch_execute("INSERT INTO widgets (id, name) SELECT gen_random_uuid(), 'same' FROM generate_series(1, 3)")
        .await
        .expect("duplicates");
    generate(
        &[WidgetUnique::SCHEMA],
        &dir,
        "unique_name",
        Permissions::default(),
    )
    .await
    .expect("unique");
    let migrations = Migrations::load(&dir).expect("load");
    match migrations.contract(&mut client).await {
        Err(Error::MigrationFailed { name, sql, .. }) => {
            assert_eq!(name, "unique_name_contract_index");
            assert!(sql.starts_with("CREATE UNIQUE INDEX CONCURRENTLY"), "{sql}");
        }
        other => panic!("expected the unique index build to fail, got {other:?}"),
    }
    // PostgreSQL keeps the half-built index, marked invalid.
    let invalid = "SELECT count(*) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid \
                   WHERE c.relname = 'idx_widgets_name_unique' AND NOT x.indisvalid";
    assert_eq!(count(&client, invalid).await, 1);

    client
        .batch_execute("DELETE FROM widgets WHERE ctid <> (SELECT min(ctid) FROM widgets)")
        .await
        .expect("dedupe");
    migrations
        .contract(&mut client)
        .await
        .expect("the re-run succeeds");
    assert_eq!(count(&client, invalid).await, 0, "rebuilt, valid");
    assert_matches(&[WidgetUnique::SCHEMA], &dir).await;
}

/// WidgetUnique with `name` renamed to `title`.
#[derive(Entity, Debug)]
#[entity(table = "widgets")]
pub struct WidgetRenamed {
    pub id: Uuid,
    #[column(max_len = 100, unique, renamed_from = "name")]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn a_renamed_column_keeps_its_constraints_and_indexes_by_renaming_them() {
    let dir = Folder::new();
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    generate(
        &[WidgetUnique::SCHEMA],
        &dir,
        "widgets",
        Permissions::default(),
    )
    .await
    .expect("v1");
    apply(&dir, &mut client).await;
    client
        .batch_execute("INSERT INTO widgets (id, name) VALUES (gen_random_uuid(), 'kept')")
        .await
        .expect("data");
    let written = generate(
        &[WidgetRenamed::SCHEMA],
        &dir,
        "rename",
        Permissions::default(),
    )
    .await
    .expect("rename");
    assert_eq!(
        file_names(&written),
        ["rename.up.sql", "rename.down.sql"],
        "no index rebuild, no validation step"
    );
    let up = std::fs::read_to_string(&written[0]).expect("read");
    assert!(up.contains("RENAME COLUMN \"name\" TO \"title\""), "{up}");
    assert!(
        up.contains(
            "RENAME CONSTRAINT \"widgets_name_max_length\" TO \"widgets_title_max_length\""
        ),
        "{up}"
    );
    assert!(
        up.contains(
            "ALTER INDEX \"idx_widgets_name_unique\" RENAME TO \"idx_widgets_title_unique\""
        ),
        "{up}"
    );
    assert!(!up.contains("DROP"), "{up}");
    apply(&dir, &mut client).await;
    assert_matches(&[WidgetRenamed::SCHEMA], &dir).await;
    assert_eq!(
        count(&client, "SELECT count(*) FROM widgets WHERE title = 'kept'").await,
        1
    );
    // And back down.
    let migrations = Migrations::load(&dir).expect("load");
    migrations
        .down_to(&mut client, migrations.list()[0].version)
        .await
        .expect("down");
    assert_eq!(
        count(&client, "SELECT count(*) FROM widgets WHERE name = 'kept'").await,
        1
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_class WHERE relname IN ('idx_widgets_name_unique', 'widgets_name_max_length')"
        )
        .await
        + count(
            &client,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'widgets_name_max_length'"
        )
        .await,
        2,
        "the index and the check have their old names again"
    );
}

#[test]
fn embedded_migrations_equal_the_folder_they_come_from() {
    let dir = Folder::new();
    dir.write("20990101000000_one.up.sql", "CREATE TABLE one (x int);\n");
    dir.write("20990101000000_one.down.sql", "DROP TABLE one;\n");
    dir.write(
        "20990101000001_two.up.sql",
        "-- ordinance:no-transaction\nCREATE INDEX CONCURRENTLY i ON one (x);\n",
    );
    let loaded = Migrations::load(&dir).expect("load");
    let sources = [
        (
            "20990101000001_two.up.sql",
            "-- ordinance:no-transaction\nCREATE INDEX CONCURRENTLY i ON one (x);\n",
        ),
        ("20990101000000_one.down.sql", "DROP TABLE one;\n"),
        ("20990101000000_one.up.sql", "CREATE TABLE one (x int);\n"),
    ];
    let embedded = Migrations::from_sources(&sources).expect("embedded");
    assert_eq!(
        embedded.list(),
        loaded.list(),
        "same versions, texts, checksums, modes"
    );
    assert!(!embedded.list()[1].transactional);
    assert!(matches!(
        Migrations::from_sources(&[("20990101000000_one.down.sql", "")]),
        Err(Error::MigrationFile { .. })
    ));
}

#[tokio::test]
async fn tables_that_reference_each_other_are_dropped_and_restored_together() {
    let dir = Folder::new();
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    generate(
        &[WidgetV4::SCHEMA, Gadget::SCHEMA],
        &dir,
        "both",
        Permissions::default(),
    )
    .await
    .expect("create");
    apply(&dir, &mut client).await;
    let written = generate(&[], &dir, "drop_both", ALLOW).await.expect("drop");
    let up = std::fs::read_to_string(&written[0]).expect("read");
    assert!(up.contains("DROP TABLE \"gadgets\", \"widgets\";"), "{up}");
    apply(&dir, &mut client).await;
    assert!(Catalog::read(&client)
        .await
        .expect("read")
        .tables
        .is_empty());
    // The down re-creates both, foreign key included.
    let migrations = Migrations::load(&dir).expect("load");
    migrations
        .down_to(&mut client, migrations.list()[0].version)
        .await
        .expect("down");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'gadgets_widget_id_fkey'"
        )
        .await,
        1
    );
}

/// Run by the test below as a child process (the variable names the
/// folder); on its own, there is nothing to do.
#[tokio::test]
async fn bless_in_a_child_process() {
    let Some(dir) = std::env::var_os("ORDINANCE_TEST_BLESS_INTO") else {
        return;
    };
    ordinance::migrate::assert_up_to_date_with(
        &[WidgetV1::SCHEMA],
        &dir,
        Some("from library"),
        Permissions::default(),
    )
    .await;
}

#[test]
fn blessing_prints_what_it_wrote_even_when_the_test_passes() {
    let dir = Folder::new();
    // The test binary, as `cargo test` runs it: output of passing tests captured.
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            &ordinance_tests::test_path(module_path!(), "bless_in_a_child_process"),
            "--exact",
        ])
        .env("ORDINANCE_TEST_BLESS_INTO", &*dir)
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    for suffix in ["up", "down"] {
        let line = format!("_from_library.{suffix}.sql");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("ordinance: wrote ") && l.ends_with(&line)),
            "no `wrote` line for {line} in:\n{stderr}"
        );
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("ordinance: wrote ") && l.ends_with("/statements.catalog")),
        "no `wrote` line for the catalog in:\n{stderr}"
    );
    assert_eq!(std::fs::read_dir(&*dir).expect("dir").count(), 3);
}

#[derive(Entity, Debug)]
#[entity(table = "gadgets")]
pub struct GadgetV1 {
    pub id: Uuid,
    #[column(max_len = 20)]
    pub code: String,
    #[column(max_len = 20)]
    pub serial: String,
    pub rank: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// V1 with both codes unique and its rank made NOT NULL (1 where there is
/// none): a contract phase of a backfill, a contract, a validation and two
/// concurrent index builds.
#[derive(Entity, Debug)]
#[entity(table = "gadgets")]
pub struct GadgetV2 {
    pub id: Uuid,
    #[column(max_len = 20, unique)]
    pub code: String,
    #[column(max_len = 20, unique)]
    pub serial: String,
    #[column(min = 1, backfill = 1)]
    pub rank: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A database at V1 holding rows whose serials repeat, and the migrations
/// to V2 written: the contract stops at the second unique index.
async fn gadgets_stopped_part_way(
    dir: &Folder,
) -> (TestDatabase, ordinance::exec::Connection, Migrations) {
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    generate(
        &[GadgetV1::SCHEMA],
        &**dir,
        "gadgets",
        Permissions::default(),
    )
    .await
    .expect("v1");
    apply(dir, &mut client).await;
    client
        .batch_execute(
            "INSERT INTO gadgets (id, code, serial) \
             SELECT gen_random_uuid(), 'c' || g, 's' || (g % 2) FROM generate_series(1, 4) g",
        )
        .await
        .expect("rows");
    generate(
        &[GadgetV2::SCHEMA],
        &**dir,
        "unique_codes",
        Permissions::default(),
    )
    .await
    .expect("v2");
    let migrations = Migrations::load(&**dir).expect("load");
    // Reverting the contract alone takes its checks away, the NOT NULL
    // check included, so it can run again from the expanded schema.
    let contract_down = migrations
        .list()
        .iter()
        .find(|m| m.name == "unique_codes_contract")
        .and_then(|m| m.down.clone())
        .expect("the contract's down");
    assert!(
        contract_down.contains("DROP CONSTRAINT IF EXISTS \"gadgets_rank_not_null\""),
        "{contract_down}"
    );
    migrations.up(&mut client).await.expect("expand");
    match migrations.contract(&mut client).await {
        Err(Error::MigrationFailed { name, sql, .. }) => {
            assert_eq!(name, "unique_codes_contract_index");
            assert!(sql.contains("idx_gadgets_serial_unique"), "{sql}");
        }
        other => panic!("expected the serial index to fail, got {other:?}"),
    }
    // It is on record as started, not finished; the index before it built.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM schema_migrations WHERE name = 'unique_codes_contract_index' AND NOT finished"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_gadgets_code_unique'"
        )
        .await,
        1
    );
    (db, client, migrations)
}

#[tokio::test]
async fn a_contract_stopped_part_way_runs_again_or_reverts_exactly() {
    // Run again, once the data allows it: it finishes.
    let dir = Folder::new();
    let (_db, mut client, migrations) = gadgets_stopped_part_way(&dir).await;
    client
        .batch_execute("UPDATE gadgets SET serial = 'u' || code")
        .await
        .expect("fix");
    migrations.contract(&mut client).await.expect("re-run");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM schema_migrations WHERE NOT finished"
        )
        .await,
        0
    );
    assert_matches(&[GadgetV2::SCHEMA], &dir).await;

    // Or revert: everything the contract did goes, the step that stopped
    // part-way included, back to V1 exactly; then the whole change runs
    // again.
    let dir = Folder::new();
    let (_db, mut client, migrations) = gadgets_stopped_part_way(&dir).await;
    let version_of = |name: &str| {
        migrations
            .list()
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.version)
            .expect(name)
    };
    // Back to the expanded schema first: the contract's check goes too,
    // so the contract could run again from there.
    migrations
        .down_to(&mut client, version_of("unique_codes"))
        .await
        .expect("down to the expand phase");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_constraint WHERE conname LIKE 'gadgets_rank%'"
        )
        .await,
        0
    );
    let v1 = version_of("gadgets");
    migrations.down_to(&mut client, v1).await.expect("down");
    assert_eq!(
        count(&client, "SELECT count(*) FROM schema_migrations").await,
        1,
        "only v1 on record"
    );
    for gone in ["idx_gadgets_code_unique", "idx_gadgets_serial_unique"] {
        assert_eq!(
            count(
                &client,
                &format!("SELECT count(*) FROM pg_indexes WHERE indexname = '{gone}'")
            )
            .await,
            0,
            "{gone}"
        );
    }
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM pg_constraint WHERE conname LIKE 'gadgets_rank%'"
        )
        .await,
        0
    );
    // The live database is V1's schema, nothing more.
    let drift = ordinance::migrate::live_drift(&client, &[GadgetV1::SCHEMA])
        .await
        .expect("drift");
    assert!(
        drift.is_empty(),
        "{}",
        ordinance::migrate::render_steps(&drift)
    );
    client
        .batch_execute("UPDATE gadgets SET serial = 'u' || code")
        .await
        .expect("fix");
    migrations.contract(&mut client).await.expect("again");
    assert_matches(&[GadgetV2::SCHEMA], &dir).await;
}
