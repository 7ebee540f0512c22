//! A migration that gives up waiting for a lock (`lock_timeout`) is run
//! again, after a wait that doubles, each wait reported — and fails with
//! PostgreSQL's 55P03 when the lock never comes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ordinance::migrate::{LockRetries, Migrations};
use ordinance::testing::TestDatabase;
use ordinance_tests::Folder;

fn two_migrations(dir: &Folder) {
    dir.write(
        "20990101000000_create_gadgets.up.sql",
        "CREATE TABLE gadgets (id uuid PRIMARY KEY);\n",
    );
    // As generated migrations do, it gives up on a lock rather than queue
    // every other query behind it.
    dir.write(
        "20990101000001_note.up.sql",
        "SET LOCAL lock_timeout = '50ms';\nALTER TABLE gadgets ADD COLUMN note text;\n",
    );
}

/// The runner with its progress lines collected.
fn runner(dir: &Folder, retries: LockRetries) -> (Migrations, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let migrations = Migrations::load(dir)
        .unwrap()
        .lock_retries(retries)
        .on_progress(move |line| sink.lock().unwrap().push(line.to_owned()));
    (migrations, lines)
}

/// A reader holding the table (a long report, say) until `release` fires.
async fn hold_gadgets(db: &TestDatabase) -> ordinance::exec::Connection {
    let reader = db.connect().await.unwrap();
    reader
        .batch_execute("BEGIN; LOCK TABLE gadgets IN ACCESS SHARE MODE")
        .await
        .unwrap();
    reader
}

#[tokio::test]
async fn a_migration_waits_out_a_lock_and_then_applies() {
    let dir = Folder::new();
    two_migrations(&dir);
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let (first, _) = runner(&dir, LockRetries::default());
    first.up_to(&mut client, 20990101000000).await.unwrap();

    let reader = hold_gadgets(&db).await;
    let released = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        reader.batch_execute("COMMIT").await.unwrap();
    });
    let (migrations, lines) = runner(
        &dir,
        LockRetries {
            attempts: 10,
            first_wait: Duration::from_millis(50),
        },
    );
    let applied = migrations.contract(&mut client).await.unwrap();
    released.await.unwrap();
    assert_eq!(applied.len(), 1);
    let lines = lines.lock().unwrap().clone();
    let waits: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("gave up waiting for a lock"))
        .collect();
    assert!(!waits.is_empty(), "{lines:#?}");
    assert!(
        waits[0].starts_with("20990101000001_note: a statement gave up waiting for a lock (")
            && waits[0].contains("55P03")
            && waits[0].ends_with("running it again in 50 ms (attempt 2 of 10)"),
        "{lines:#?}"
    );
    if let Some(second) = waits.get(1) {
        assert!(second.contains("in 100 ms (attempt 3 of 10)"), "{lines:#?}");
    }
    // Applied once, the column there.
    client
        .batch_execute("SELECT note FROM gadgets")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lock_that_never_comes_fails_after_the_last_attempt() {
    let dir = Folder::new();
    two_migrations(&dir);
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let (first, _) = runner(&dir, LockRetries::default());
    first.up_to(&mut client, 20990101000000).await.unwrap();
    let reader = hold_gadgets(&db).await;
    let (migrations, lines) = runner(
        &dir,
        LockRetries {
            attempts: 3,
            first_wait: Duration::from_millis(10),
        },
    );
    let err = migrations.contract(&mut client).await.unwrap_err();
    assert_eq!(
        err.sqlstate(),
        Some(&ordinance::deps::tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE),
        "{err}"
    );
    let waits = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("gave up waiting for a lock"))
        .count();
    assert_eq!(waits, 2, "three runs, two waits");
    // Nothing of it stayed.
    drop(reader);
    let pending = migrations.pending(&client).await.unwrap();
    assert_eq!(pending.len(), 1);
}
