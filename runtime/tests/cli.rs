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
