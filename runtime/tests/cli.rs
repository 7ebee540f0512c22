//! The `ordinance-migrate` binary against a throwaway database.

use std::process::Command;

use ordinance::testing::TestDatabase;

fn url(db: &TestDatabase) -> String {
    let config = db.config();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        tokio_postgres::config::Host::Tcp(name) => name.clone(),
    };
    format!(
        "host={host} port={} user={} dbname={}",
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_user().unwrap_or("postgres"),
        db.name()
    )
}

fn migrate(dir: &std::path::Path, db: &TestDatabase, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ordinance-migrate"))
        .arg("--dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url(db))
        .args(args)
        .output()
        .expect("run ordinance-migrate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn status_up_dry_run_and_down_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("ordinance-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("20990101000000_things.up.sql"),
        "CREATE TABLE things (x int);\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("20990101000000_things.down.sql"),
        "DROP TABLE things;\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("20990101000001_tighten.up.sql"),
        "-- ordinance:contract\nALTER TABLE things ADD CONSTRAINT things_x_positive CHECK (x > 0);\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("20990101000001_tighten.down.sql"),
        "ALTER TABLE things DROP CONSTRAINT things_x_positive;\n",
    )
    .expect("write");
    let db = TestDatabase::create().await.expect("db");

    let (ok, out, _) = migrate(&dir, &db, &["status"]);
    assert!(ok);
    assert!(
        out.contains("pending  expand   20990101000000_things"),
        "{out}"
    );
    assert!(
        out.contains("pending  contract 20990101000001_tighten"),
        "{out}"
    );
    let (ok, out, _) = migrate(&dir, &db, &["dry-run"]);
    assert!(ok);
    assert!(out.contains("CREATE TABLE things (x int);"), "{out}");
    let (ok, out, _) = migrate(&dir, &db, &["up"]);
    assert!(ok, "{out}");
    // Printed as it is applied, then the count; the contract one waits.
    assert!(out.contains("applied 20990101000000_things in "), "{out}");
    assert!(out.contains("1 applied\n"), "{out}");
    assert!(out.contains("1 contract migration(s) wait"), "{out}");
    let client = db.connect().await.expect("connect");
    client
        .execute("INSERT INTO things VALUES (1)", &[])
        .await
        .expect("table exists");
    let (ok, out, _) = migrate(&dir, &db, &["status"]);
    assert!(ok);
    assert!(
        out.contains("1 applied, 1 pending (1 of them contract)"),
        "{out}"
    );
    let (ok, out, _) = migrate(&dir, &db, &["contract"]);
    assert!(ok, "{out}");
    assert!(out.contains("applied 20990101000001_tighten in "), "{out}");
    let (ok, out, _) = migrate(&dir, &db, &["status"]);
    assert!(ok);
    assert!(out.contains("2 applied, 0 pending"), "{out}");
    let (ok, out, _) = migrate(&dir, &db, &["down", "0"]);
    assert!(ok, "{out}");
    assert!(out.contains("reverted 20990101000000_things"), "{out}");

    let (ok, _, err) = migrate(&dir, &db, &["sideways"]);
    assert!(!ok);
    assert!(err.contains("usage: migrate"), "{err}");
    std::fs::write(dir.join("not-a-migration.sql"), "").expect("write");
    let (ok, _, err) = migrate(&dir, &db, &["status"]);
    assert!(!ok);
    assert!(err.contains("not-a-migration.sql"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn plan_names_each_statements_lock_rewrite_scan_and_transaction() {
    let dir = std::env::temp_dir().join(format!("ordinance-cli-plan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    write(
        "20990101000000_things.up.sql",
        "CREATE TABLE things (id uuid PRIMARY KEY, x int);\n",
    );
    write(
        "20990101000001_x.up.sql",
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE things ADD COLUMN y int DEFAULT 0 NOT NULL;\n",
    );
    write(
        "20990101000002_x_index.up.sql",
        "-- ordinance:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_things_y ON things (y);\n",
    );
    write(
        "20990101000003_x_contract.up.sql",
        "-- ordinance:contract\n\
         ALTER TABLE things ADD CONSTRAINT things_x_not_null CHECK (x IS NOT NULL) NOT VALID;\n",
    );
    write(
        "20990101000004_x_validate.up.sql",
        "-- ordinance:contract\n\
         ALTER TABLE things VALIDATE CONSTRAINT things_x_not_null;\n\
         ALTER TABLE things ALTER COLUMN x SET NOT NULL;\n\
         ALTER TABLE things ALTER COLUMN y TYPE bigint;\n",
    );
    let db = TestDatabase::create().await.expect("db");
    let (ok, out, err) = migrate(&dir, &db, &["plan"]);
    assert!(ok, "{out}{err}");
    for line in [
        "20990101000000_things (expand, in one transaction)",
        "  CREATE TABLE things (id uuid PRIMARY KEY, x int)",
        "      no lock on an existing table; no rewrite; no scan; a new table: nothing waits for it",
        "20990101000001_x (expand, in one transaction)",
        "      ACCESS EXCLUSIVE lock; no rewrite; no scan; brief: a constant default is stored once",
        "20990101000002_x_index (expand, outside a transaction, statement by statement)",
        "      SHARE UPDATE EXCLUSIVE lock; no rewrite; scans the table; builds without blocking writes; must run outside a transaction",
        "20990101000003_x_contract (contract, in one transaction)",
        "      ACCESS EXCLUSIVE lock; no rewrite; no scan",
        "20990101000004_x_validate (contract, in one transaction)",
        "      SHARE UPDATE EXCLUSIVE lock; no rewrite; scans the table; scans while reads and writes go on",
        "  ALTER TABLE things ALTER COLUMN x SET NOT NULL",
        "      ACCESS EXCLUSIVE lock; no rewrite; no scan; a validated CHECK (... IS NOT NULL) proves it",
        "      ACCESS EXCLUSIVE lock; REWRITES the table; scans the table; most type changes rewrite the table",
    ] {
        assert!(out.contains(&format!("{line}\n")), "missing {line:?} in\n{out}");
    }
    // Applied migrations leave the plan.
    let (ok, _, _) = migrate(&dir, &db, &["up"]);
    assert!(ok);
    let (ok, out, _) = migrate(&dir, &db, &["plan"]);
    assert!(ok);
    assert!(!out.contains("20990101000001_x "), "{out}");
    assert!(out.contains("20990101000003_x_contract"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn audit_exits_non_zero_on_findings_and_adopt_writes_entities() {
    let dir = std::env::temp_dir().join(format!("ordinance-cli-audit-{}", std::process::id()));
    let messy = TestDatabase::with_schema(
        "CREATE TABLE item (id serial PRIMARY KEY, label varchar(20));\n\
         CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL,\n\
             created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());",
    )
    .await
    .expect("database");
    let (ok, stdout, _) = migrate(&dir, &messy, &["audit"]);
    assert!(!ok, "findings fail the command:\n{stdout}");
    assert!(
        stdout.contains(
            "item: table name \"item\" is not plural: did you mean \"items\"? [plural-table]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("item.label: character varying(20)"),
        "{stdout}"
    );

    let (ok, stdout, stderr) = migrate(&dir, &messy, &["adopt"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("pub struct Note {"), "{stdout}");
    assert!(
        stderr.contains("left out item: its primary key is not `id uuid`"),
        "{stderr}"
    );
    assert!(stderr.contains("COMMENT ON TABLE \"notes\""), "{stderr}");

    let clean = TestDatabase::create().await.expect("database");
    let (ok, stdout, _) = migrate(&dir, &clean, &["audit"]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("no findings"), "{stdout}");
}
