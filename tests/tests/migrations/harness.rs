//! The throwaway PostgreSQL: isolated databases, templates, and nothing left
//! behind once the process that started it exits.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ordinance::testing::{TestDatabase, TestServer};

/// Set in the child process of `server_and_directory_vanish_when_the_process_exits`.
const CHILD_MARK: &str = "ORDINANCE_HARNESS_CHILD";

#[tokio::test]
async fn databases_are_isolated_and_templates_are_cloned() {
    let setup = "CREATE TABLE notes (body text NOT NULL); INSERT INTO notes VALUES ('seed');";
    let a = TestDatabase::with_schema(setup)
        .await
        .expect("first database");
    let b = TestDatabase::with_schema(setup)
        .await
        .expect("second database");
    assert_ne!(a.name(), b.name());
    let ca = a.connect().await.expect("connect a");
    let cb = b.connect().await.expect("connect b");
    ca.execute("INSERT INTO notes VALUES ('only in a')", &[])
        .await
        .expect("insert");
    let count = |c: ordinance::exec::Connection| async move {
        c.query_one("SELECT count(*) FROM notes", &[])
            .await
            .expect("count")
            .get::<_, i64>(0)
    };
    assert_eq!(count(ca).await, 2);
    assert_eq!(
        count(cb).await,
        1,
        "b is cloned from the template, untouched by a"
    );
    let empty = TestDatabase::create().await.expect("empty database");
    let tables: i64 = empty
        .connect()
        .await
        .expect("connect")
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .expect("count tables")
        .get(0);
    assert_eq!(tables, 0);
}

/// Run in a child process: starts the server, proves it answers, prints
/// where it lives, and exits.
#[tokio::test]
async fn server_answers_queries() {
    let server = TestServer::global().expect("server starts");
    let db = TestDatabase::create().await.expect("database");
    let one: i32 = db
        .connect()
        .await
        .expect("connect")
        .query_one("SELECT 1", &[])
        .await
        .expect("query")
        .get(0);
    assert_eq!(one, 1);
    if std::env::var_os(CHILD_MARK).is_some() {
        let pid = std::fs::read_to_string(
            server
                .directory()
                .expect("child runs the embedded server")
                .join("data/postmaster.pid"),
        )
        .expect("pid file");
        println!(
            "SERVER_DIR={}",
            server.directory().expect("embedded").display()
        );
        println!("SERVER_PID={}", pid.lines().next().expect("pid line"));
    }
}

#[test]
fn server_and_directory_vanish_when_the_process_exits() {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            &ordinance_tests::test_path(module_path!(), "server_answers_queries"),
            "--nocapture",
        ])
        .env(CHILD_MARK, "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("child printed no {key}: {stdout}"))
            .to_owned()
    };
    let dir = PathBuf::from(field("SERVER_DIR="));
    let pid = field("SERVER_PID=");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let running = PathBuf::from(format!("/proc/{pid}")).exists();
        if !running && !dir.exists() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "20 s after exit: server running = {running}, directory present = {}",
            dir.exists()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
