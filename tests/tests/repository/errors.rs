//! Errors say what PostgreSQL said, as typed cases a caller can act on, and
//! no data from the database makes the kit panic.

use ordinance::exec::Connection;
use ordinance::migrate::Migrations;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::{Error, Json};
use ordinance_tests::*;
use tokio_postgres::IsolationLevel;

async fn setup() -> (ordinance::testing::TestDatabase, Connection) {
    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    (db, client)
}

fn invoice(organization_id: Uuid, amount: Decimal) -> NewInvoice {
    NewInvoice {
        organization_id,
        amount,
        fx_rate: None,
        currency: "EUR".into(),
        has_been_paid: false,
        lines: Json(serde_json::json!([])),
        billing_account_id: Uuid::now_v7(),
    }
}

#[tokio::test]
async fn values_the_server_refuses_are_invalid_values_naming_the_column() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);

    // A NUL byte in text (22021): PostgreSQL names the parameter, the kit
    // the column it was for.
    let err = repo
        .insert(&new_organization("secret\0name"))
        .await
        .expect_err("NUL");
    assert!(
        matches!(&err, Error::InvalidValue { table: Some(t), column: Some("name"), .. } if t == "organizations"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid value (column \"name\") of \"organizations\": ERROR 22021: invalid byte sequence for encoding \"UTF8\": 0x00"
    );
    assert_eq!(err.sqlstate().map(|s| s.code()), Some("22021"));

    // A date before PostgreSQL's range (22008), on an update.
    let org = repo.insert(&new_organization("Acme")).await.expect("org");
    let task = repo.insert(&new_task(org.id, "t")).await.expect("task");
    let mut ancient = task.clone();
    ancient.due_on = Some(NaiveDate::MIN);
    let err = repo.update(&ancient).await.expect_err("date");
    assert!(
        matches!(
            &err,
            Error::InvalidValue {
                column: Some("due_on"),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("ERROR 22008: date out of range"),
        "{err}"
    );

    // Too many digits for NUMERIC(12,2): the kit refuses it before the
    // round trip, naming the column.
    let err = repo
        .insert(&invoice(org.id, Decimal::new(1_000_000_000_000, 0)))
        .await
        .expect_err("overflow");
    assert_eq!(
        err.to_string(),
        "invalid values for \"invoices\": \"amount\" is more than 10 digits before the point \
         (precision = 12, scale = 2)"
    );
    // The server's own numeric overflow (22003), from a statement the kit
    // did not write: an invalid value of the table, with the server's
    // detail (which column, only the kit's own statements can say).
    let raw = client
        .query(
            "SELECT $1::numeric(12,2)",
            &[&Decimal::new(1_000_000_000_000, 0)],
        )
        .await
        .expect_err("overflow");
    let err = Error::from_db(raw, Invoice::SCHEMA);
    assert_eq!(
        err.to_string(),
        "invalid value of \"invoices\": ERROR 22003: numeric field overflow; \
         DETAIL: A field with precision 12, scale 2 must round to an absolute value less than 10^10."
    );

    // Invalid text representation (22P02) through a plain driver call and
    // `?`: the value is not repeated in the message.
    let raw = client
        .query("SELECT $1::text::int", &[&"not-a-number"])
        .await
        .expect_err("parse");
    let err = Error::from(raw);
    assert!(
        matches!(err, Error::InvalidValue { table: None, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid value: ERROR 22P02: invalid input syntax for type integer: \"<redacted>\""
    );
    assert!(!format!("{err:?}").contains("not-a-number"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn display_carries_detail_hint_table_and_constraint_without_values() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo.insert(&new_organization("Acme")).await.expect("org");
    repo.insert(&new_user(org.id, "private@example.com"))
        .await
        .expect("user");
    let err = repo
        .insert(&new_user(org.id, "private@example.com"))
        .await
        .expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "unique violation on \"idx_users_email_unique\" of \"users\" (column \"email\"): \
         ERROR 23505: duplicate key value violates unique constraint \"idx_users_email_unique\"; \
         DETAIL: Key (email)=(<redacted>) already exists.; table \"public.users\"; \
         constraint \"idx_users_email_unique\""
    );
    assert!(!format!("{err:?}").contains("private@"), "{err:?}");

    // A hint, through `?` on a driver error.
    let err = Error::from(
        client
            .query("SELECT no_such_function(1)", &[])
            .await
            .expect_err("no function"),
    );
    assert_eq!(
        err.to_string(),
        "ERROR 42883: function no_such_function(integer) does not exist; HINT: No function matches \
         the given name and argument types. You might need to add explicit type casts."
    );

    // A connect failure says what failed and why, and is retryable.
    let mut nowhere = tokio_postgres::Config::new();
    nowhere
        .host_path("/nonexistent-ordinance-socket-dir")
        .user("postgres");
    let err = Error::from(
        nowhere
            .connect(tokio_postgres::NoTls)
            .await
            .map(drop)
            .expect_err("no server"),
    );
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("PostgreSQL unavailable (retryable): error connecting to server: "),
        "{err}"
    );
    assert!(!err.to_string().contains("db error"));
}

#[tokio::test]
async fn a_failed_migration_prints_what_the_server_said() {
    let db = ordinance::testing::TestDatabase::create()
        .await
        .expect("database");
    let mut client = db.connect().await.expect("connect");
    let migrations = Migrations::from_sources(&[(
        "20260101000000_broken.up.sql",
        "CREATE TABLE ok (x int);\nSELECT * FROM missing_table;\n",
    )])
    .expect("migrations");
    let err = migrations.up(&mut client).await.expect_err("fails");
    assert_eq!(
        err.to_string(),
        "migration 20260101000000_broken failed at statement 2: ERROR 42P01: relation \"missing_table\" \
         does not exist\n  SELECT * FROM missing_table"
    );
    assert_eq!(err.sqlstate().map(|s| s.code()), Some("42P01"));
}

#[tokio::test]
async fn concurrency_failures_are_typed_and_retryable() {
    let (db, mut a) = setup().await;
    let mut b = db.connect().await.expect("second connection");
    let seed = Repo::new(&a);
    let org = seed.insert(&new_organization("Acme")).await.expect("org");
    let other = seed.insert(&new_organization("Beta")).await.expect("org");

    // Lock not available (55P03): NOWAIT on a row another transaction holds.
    let holder = a.transaction().await.expect("begin");
    holder
        .execute(
            "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE",
            &[&org.id],
        )
        .await
        .expect("lock");
    let err = Error::from(
        b.query(
            "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE NOWAIT",
            &[&org.id],
        )
        .await
        .expect_err("locked"),
    );
    assert!(matches!(err, Error::LockNotAvailable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("55P03"), "{err}");
    holder.rollback().await.expect("rollback");

    // Deadlock (40P01): each transaction updates the row the other holds.
    let tx_a = a.transaction().await.expect("begin a");
    let tx_b = b.transaction().await.expect("begin b");
    let first_a = Repo::new(&tx_a).update(&org).await.expect("a takes org");
    let first_b = Repo::new(&tx_b)
        .update(&other)
        .await
        .expect("b takes other");
    let (repo_a, repo_b) = (Repo::new(&tx_a), Repo::new(&tx_b));
    let (ra, rb) = tokio::join!(repo_a.update(&other), repo_b.update(&org));
    let deadlocked: Vec<Error> = [ra.err(), rb.err()].into_iter().flatten().collect();
    assert_eq!(deadlocked.len(), 1, "exactly one victim: {deadlocked:?}");
    assert!(
        matches!(deadlocked[0], Error::Deadlock(_)),
        "{:?}",
        deadlocked[0]
    );
    assert!(deadlocked[0].is_retryable());
    let _ = (first_a, first_b);
    let _ = tx_a.rollback().await;
    let _ = tx_b.rollback().await;

    // Serialization failure (40001): write skew under SERIALIZABLE.
    let tx_a = a
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await
        .expect("begin a");
    let tx_b = b
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await
        .expect("begin b");
    let count_a = Repo::new(&tx_a)
        .count::<Organization>()
        .await
        .expect("count");
    let count_b = Repo::new(&tx_b)
        .count::<Organization>()
        .await
        .expect("count");
    Repo::new(&tx_a)
        .insert(&new_organization(&format!("A saw {count_a}")))
        .await
        .expect("insert a");
    let second = Repo::new(&tx_b)
        .insert(&new_organization(&format!("B saw {count_b}")))
        .await;
    tx_a.commit().await.expect("first commit wins");
    let err = match second {
        Err(e) => {
            let _ = tx_b.rollback().await;
            e
        }
        Ok(_) => Error::from(tx_b.commit().await.expect_err("second commit fails")),
    };
    assert!(matches!(err, Error::SerializationFailure(_)), "{err:?}");
    assert!(err.is_retryable());

    // Cancelled (57014): a statement past statement_timeout.
    b.batch_execute("SET statement_timeout = 50")
        .await
        .expect("timeout");
    let err = Error::from(
        b.query("SELECT pg_sleep(2)", &[])
            .await
            .expect_err("cancelled"),
    );
    assert!(matches!(err, Error::Cancelled(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "statement cancelled: ERROR 57014: canceling statement due to statement timeout"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_column_type_drifted_by_hand_is_a_typed_error_not_a_panic() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo.insert(&new_organization("Acme")).await.expect("org");
    let user = repo
        .insert(&new_user(org.id, "a@example.com"))
        .await
        .expect("user");
    client
        .batch_execute("ALTER TABLE users ALTER COLUMN version TYPE BIGINT")
        .await
        .expect("drift");
    let is_version_drift = |e: &Error| {
        matches!(
            e,
            Error::Decode {
                table: "users",
                column: "version",
                ..
            }
        )
    };
    let err = repo.get::<User>(user.id).await.expect_err("read");
    assert!(is_version_drift(&err), "{err:?}");
    assert!(
        err.to_string().starts_with(
            "cannot decode column \"version\" of \"users\": cannot convert between the Rust type `i32` \
             and the Postgres type `int8`"
        ),
        "{err}"
    );
    // A write that misses reads the version to explain why: also typed.
    let mut stale = user.clone();
    stale.version = 7;
    let err = repo.update(&stale).await.expect_err("probe");
    assert!(is_version_drift(&err), "{err:?}");

    // A bookkeeping table made by another tool, with other column types.
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, name TEXT, checksum TEXT);
             INSERT INTO schema_migrations VALUES ('1', 'theirs', 'x')",
        )
        .await
        .expect("foreign bookkeeping");
    let mut client = client;
    let err = Migrations::from_sources(&[])
        .expect("none")
        .up(&mut client)
        .await
        .expect_err("drifted bookkeeping");
    assert!(
        matches!(
            err,
            Error::Decode {
                table: "schema_migrations",
                column: "version",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_write_on_a_soft_deleted_row_is_not_found_whatever_its_version() {
    let (_db, client) = setup().await;
    let repo = Repo::new(&client);
    let org = repo.insert(&new_organization("Acme")).await.expect("org");
    // Someone else soft-deletes the row (its version moves to 2).
    let deleted = repo.soft_delete(&org).await.expect("soft delete");
    assert_eq!(deleted.version, 2);

    // Our copy is at version 1: update and soft delete say "gone", not
    // "stale, re-read and retry" (a re-read would find nothing).
    for err in [
        repo.update(&org).await.expect_err("update"),
        repo.soft_delete(&org).await.expect_err("soft delete"),
    ] {
        assert!(
            matches!(err, Error::NotFound { table: "organizations", id, .. } if id == org.id),
            "{err:?}"
        );
    }
    // Restore is the write that wants it deleted: a stale copy is stale.
    let err = repo.restore(&org).await.expect_err("stale restore");
    assert!(
        matches!(
            err,
            Error::StaleVersion {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let live = repo.restore(&deleted).await.expect("restore");
    // A live row at another version is stale for update...
    let err = repo.update(&org).await.expect_err("stale update");
    assert!(
        matches!(
            err,
            Error::StaleVersion {
                expected: 1,
                actual: 3,
                ..
            }
        ),
        "{err:?}"
    );
    // ...and not restorable, whatever the version.
    let err = repo.restore(&org).await.expect_err("live restore");
    assert!(matches!(err, Error::NotSoftDeleted { .. }), "{err:?}");
    repo.update(&live).await.expect("current copy updates");
}
