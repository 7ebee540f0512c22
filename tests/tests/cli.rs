//! The migration commands an application runs from its own crate
//! (`ordinance::cli`), against a real PostgreSQL: `status`, `plan`, `up`
//! (the expand phase), `dry-run`, `contract`, `down`, and what a failure
//! prints.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ordinance::migrate::Migrations;
use ordinance::testing::TestDatabase;
use ordinance_tests::Folder;

/// Three migrations: a table, a concurrent index build (expand, outside a
/// transaction), and a contract step making a column NOT NULL.
fn three_migrations(dir: &Folder) {
    dir.write(
        "20990101000000_create_gadgets.up.sql",
        "CREATE TABLE gadgets (id uuid PRIMARY KEY, name text);\n",
    );
    dir.write(
        "20990101000000_create_gadgets.down.sql",
        "DROP TABLE gadgets;\n",
    );
    dir.write(
        "20990101000001_index_gadgets.up.sql",
        "-- ordinance:no-transaction\nCREATE INDEX CONCURRENTLY gadgets_name ON gadgets (name);\n",
    );
    dir.write(
        "20990101000001_index_gadgets.down.sql",
        "DROP INDEX gadgets_name;\n",
    );
    dir.write(
        "20990101000002_name_required.up.sql",
        "-- ordinance:contract\nALTER TABLE gadgets ALTER COLUMN name SET NOT NULL;\n",
    );
    dir.write(
        "20990101000002_name_required.down.sql",
        "ALTER TABLE gadgets ALTER COLUMN name DROP NOT NULL;\n",
    );
}

/// Runs one command as `src/bin/migrate.rs` would, returning the lines it
/// printed and its result.
async fn migrate(
    dir: &Path,
    client: &mut ordinance::deps::tokio_postgres::Client,
    command: &[&str],
) -> (Vec<String>, Result<(), String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let result = ordinance::cli::run(
        Migrations::load(dir).expect("load"),
        client,
        command,
        move |line| sink.lock().expect("lines").push(line.to_owned()),
    )
    .await
    .map_err(|e| e.to_string());
    let lines = lines.lock().expect("lines").clone();
    (lines, result)
}

/// `lines` has a line equal to `line`.
fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

/// `lines` has `applied {migration} in N ms`.
fn applied(lines: &[String], migration: &str) -> bool {
    let prefix = format!("applied {migration} in ");
    lines.iter().any(|l| {
        l.strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(" ms"))
            .is_some_and(|ms| ms.parse::<u64>().is_ok())
    })
}

async fn exists(client: &ordinance::deps::tokio_postgres::Client, sql: &str) -> bool {
    client
        .query_one(sql, &[])
        .await
        .expect("query")
        .get::<_, bool>(0)
}

#[tokio::test]
async fn an_application_runs_every_command_in_deploy_order() {
    let dir = Folder::new();
    three_migrations(&dir);
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");

    let (lines, result) = migrate(&dir, &mut client, &["status"]).await;
    result.expect("status");
    assert_eq!(
        lines,
        [
            "pending  expand   20990101000000_create_gadgets",
            "pending  expand   20990101000001_index_gadgets",
            "pending  contract 20990101000002_name_required",
            "0 applied, 3 pending (1 of them contract)",
        ]
    );

    // The plan: each statement with its lock, rewrite, scan and transaction.
    let (lines, result) = migrate(&dir, &mut client, &["plan"]).await;
    result.expect("plan");
    let plan = lines.join("\n");
    for expected in [
        "20990101000000_create_gadgets (expand, in one transaction)",
        "  CREATE TABLE gadgets (id uuid PRIMARY KEY, name text)",
        "      no lock on an existing table; no rewrite; no scan",
        "20990101000001_index_gadgets (expand, outside a transaction, statement by statement)",
        "  CREATE INDEX CONCURRENTLY gadgets_name ON gadgets (name)",
        "      SHARE UPDATE EXCLUSIVE lock; no rewrite; scans the table; builds without blocking writes; must run outside a transaction",
        "20990101000002_name_required (contract, in one transaction)",
        "  ALTER TABLE gadgets ALTER COLUMN name SET NOT NULL",
        "      ACCESS EXCLUSIVE lock; no rewrite; scans the table",
    ] {
        assert!(
            plan.lines().any(|l| l.starts_with(expected)),
            "plan lacks {expected:?}:\n{plan}"
        );
    }
    assert!(
        !exists(&client, "SELECT to_regclass('gadgets') IS NOT NULL").await,
        "plan changes nothing"
    );

    // up: the expand phase only, each migration with its duration.
    let (lines, result) = migrate(&dir, &mut client, &["up"]).await;
    result.expect("up");
    assert!(
        applied(&lines, "20990101000000_create_gadgets"),
        "{lines:?}"
    );
    assert!(applied(&lines, "20990101000001_index_gadgets"), "{lines:?}");
    assert!(
        !applied(&lines, "20990101000002_name_required"),
        "{lines:?}"
    );
    assert!(has(&lines, "2 applied"), "{lines:?}");
    assert!(
        has(
            &lines,
            "1 contract migration(s) wait: run `contract` once no instance of the previous version runs"
        ),
        "{lines:?}"
    );
    assert!(exists(&client, "SELECT attnotnull = false FROM pg_attribute WHERE attrelid = 'gadgets'::regclass AND attname = 'name'").await);
    assert!(
        exists(
            &client,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'gadgets_name'::regclass"
        )
        .await
    );

    let (lines, result) = migrate(&dir, &mut client, &["status"]).await;
    result.expect("status");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("2 applied, 1 pending (1 of them contract)")
    );
    assert!(has(
        &lines,
        "applied  expand   20990101000001_index_gadgets"
    ));

    // dry-run: what contract would run, without running it.
    let (lines, result) = migrate(&dir, &mut client, &["dry-run"]).await;
    result.expect("dry-run");
    let dry = lines.join("\n");
    assert!(
        dry.contains("20990101000002_name_required")
            && dry.contains("ALTER TABLE gadgets ALTER COLUMN name SET NOT NULL"),
        "{dry}"
    );
    assert!(exists(&client, "SELECT attnotnull = false FROM pg_attribute WHERE attrelid = 'gadgets'::regclass AND attname = 'name'").await);

    // contract: once the previous version no longer runs.
    let (lines, result) = migrate(&dir, &mut client, &["contract"]).await;
    result.expect("contract");
    assert!(applied(&lines, "20990101000002_name_required"), "{lines:?}");
    assert!(has(&lines, "1 applied"), "{lines:?}");
    assert!(exists(&client, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'gadgets'::regclass AND attname = 'name'").await);
    let (lines, _) = migrate(&dir, &mut client, &["plan"]).await;
    assert_eq!(lines, ["nothing to apply"]);

    // down 0: everything reverted, newest first.
    let (lines, result) = migrate(&dir, &mut client, &["down", "0"]).await;
    result.expect("down");
    assert_eq!(
        lines,
        [
            "reverted 20990101000002_name_required",
            "reverted 20990101000001_index_gadgets",
            "reverted 20990101000000_create_gadgets",
            "3 reverted",
        ]
    );
    assert!(!exists(&client, "SELECT to_regclass('gadgets') IS NOT NULL").await);

    // A command the program does not know is the usage line.
    let (_, result) = migrate(&dir, &mut client, &["sideways"]).await;
    assert!(result.expect_err("unknown").starts_with("usage: migrate"));
}

#[tokio::test]
async fn a_failure_prints_what_was_applied_and_what_postgresql_said() {
    let dir = Folder::new();
    three_migrations(&dir);
    dir.write(
        "20990101000001_index_gadgets.up.sql",
        "CREATE INDEX gadgets_name ON gadgets (name);\n",
    );
    dir.write("20990101000002_name_required.up.sql",
        "CREATE TABLE half_done (n int);\n\
         DO $$ BEGIN RAISE EXCEPTION 'gadgets need a name' \
         USING ERRCODE = '23514', DETAIL = 'one gadget has none', HINT = 'backfill the names first'; END $$;\n",
    );
    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    let (lines, result) = migrate(&dir, &mut client, &["up"]).await;
    // What had been applied comes first, then the failure.
    assert!(
        applied(&lines, "20990101000000_create_gadgets"),
        "{lines:?}"
    );
    assert!(applied(&lines, "20990101000001_index_gadgets"), "{lines:?}");
    let failure = result.expect_err("the third migration fails");
    for part in [
        // Nothing names a table or constraint here: none is made up.
        "migration 20990101000002_name_required failed at statement 2: \
         check violation: ERROR 23514: gadgets need a name",
        "DETAIL: one gadget has none",
        "HINT: backfill the names first",
        "DO $$ BEGIN RAISE EXCEPTION",
    ] {
        assert!(failure.contains(part), "{part:?} missing from:\n{failure}");
    }
    // The failed migration left nothing; the two before it stay applied.
    assert!(!exists(&client, "SELECT to_regclass('half_done') IS NOT NULL").await);
    let (lines, _) = migrate(&dir, &mut client, &["status"]).await;
    assert_eq!(
        lines.last().map(String::as_str),
        Some("2 applied, 1 pending (0 of them contract)")
    );
}

/// `grants`: the generated grants for every entity of the program, printed,
/// or run against the database with `--apply` — after which the roles can
/// do what the application does, and nothing more.
#[tokio::test]
async fn grants_are_printed_or_applied_from_the_applications_binary() {
    let db = ordinance_tests::fixture_database().await;
    let mut owner = db.connect().await.expect("owner");
    let (app, reader) = (format!("{}_svc", db.name()), format!("{}_rpt", db.name()));
    owner
        .batch_execute(&format!(
            "CREATE ROLE \"{app}\" LOGIN NOBYPASSRLS; CREATE ROLE \"{reader}\" LOGIN NOBYPASSRLS"
        ))
        .await
        .expect("roles");
    let dir = Folder::new();
    dir.write("20990101000000_nothing.up.sql", "SELECT 1;\n");

    // Printed: nothing runs.
    let (lines, result) =
        migrate(&dir, &mut owner, &["grants", &app, "--read-only", &reader]).await;
    result.expect("grants");
    assert!(
        has(
            &lines,
            &format!("GRANT USAGE ON SCHEMA \"public\" TO \"{app}\";")
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            &format!("GRANT SELECT ON TABLE \"organizations\" TO \"{reader}\";")
        ),
        "{lines:#?}"
    );
    // One table per statement, every table of the program, for each role.
    let on_tables: Vec<&String> = lines.iter().filter(|l| l.contains(" ON TABLE ")).collect();
    assert!(
        on_tables.iter().all(|l| !l.contains(", \"")),
        "{on_tables:#?}"
    );
    assert_eq!(
        on_tables.len(),
        2 * ordinance::registered_schemas().len(),
        "{on_tables:#?}"
    );
    let as_role = async |role: &str| {
        let mut config = db.config().clone();
        config.user(role);
        ordinance::testing::connect(&config).await.expect("connect")
    };
    let err = as_role(&app)
        .await
        .batch_execute("SELECT count(*) FROM organizations")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ordinance::deps::tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "printing granted nothing"
    );

    // Applied.
    let (lines, result) = migrate(
        &dir,
        &mut owner,
        &["grants", &app, "--read-only", &reader, "--apply"],
    )
    .await;
    result.expect("grants --apply");
    assert!(
        lines.last().is_some_and(|l| l.ends_with("grants applied")),
        "{lines:#?}"
    );
    let as_app = as_role(&app).await;
    as_app
        .batch_execute(
            "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'acme'); \
             DELETE FROM organizations",
        )
        .await
        .expect("the application writes");
    let err = as_role(&reader)
        .await
        .batch_execute("DELETE FROM organizations")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ordinance::deps::tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "the reader only reads"
    );

    // A bad command line says how to write it.
    let (_, result) = migrate(&dir, &mut owner, &["grants"]).await;
    assert!(result
        .unwrap_err()
        .contains("grants APP [--read-only ROLE] [--apply]"));
}
