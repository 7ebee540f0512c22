//! An outbox in migrations: the table, its indexes and its notifying
//! trigger are blessed like any entity's; the database they build
//! delivers what the application role publishes; the drift check is
//! satisfied, and the audit accepts the table (its waivers say why it has
//! no `deleted_at` or `version`).

use std::time::Duration;

use ordinance::audit::{audit, AuditOptions};
use ordinance::migrate::{
    check_drift, generate, pending_steps, render_steps, Drift, Migrations, Permissions,
};
use ordinance::outbox::{Event, Relay, RelayOptions};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance_tests::Folder;

/// What other services hear about.
#[derive(Entity, Debug, Clone)]
#[entity(outbox, table = "outbox_messages")]
pub struct OutboxMessage {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub topic: String,
    #[column(max_len = 100)]
    pub key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub available_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A table there before the outbox.
#[derive(Entity, Debug)]
pub struct Plain {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

struct Pinged(u32);

impl Event for Pinged {
    type Outbox = OutboxMessage;
    const TOPIC: &'static str = "pinged";
    fn key(&self) -> String {
        "pings".into()
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({ "n": self.0 })
    }
}

#[tokio::test]
async fn an_outbox_is_migrated_drift_checked_and_audited_like_any_table() {
    let dir = Folder::new();
    let none = Permissions::default();
    let steps = pending_steps(&[OutboxMessage::SCHEMA], &*dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    for expected in [
        "CREATE TABLE \"outbox_messages\"",
        "\"idx_outbox_messages_key_created_at_id\"",
        "\"idx_outbox_messages_created_at_id\"",
        "\"attempts\" INTEGER NOT NULL DEFAULT 0",
        "\"available_at\" TIMESTAMPTZ NOT NULL DEFAULT now()",
        "CREATE OR REPLACE FUNCTION \"outbox_messages_notify\"()",
        "PERFORM pg_notify('outbox_messages', '')",
        "CREATE TRIGGER \"outbox_messages_notify\" AFTER INSERT ON \"outbox_messages\" FOR EACH STATEMENT",
    ] {
        assert!(sql.contains(expected), "{expected} in\n{sql}");
    }
    generate(&[OutboxMessage::SCHEMA], &*dir, "outbox", none)
        .await
        .unwrap();
    assert!(matches!(
        check_drift(&[OutboxMessage::SCHEMA], &*dir, None, none)
            .await
            .unwrap(),
        Drift::UpToDate
    ));

    let db = TestDatabase::create().await.unwrap();
    let mut owner = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut owner)
        .await
        .unwrap();
    // The audit has nothing to say of the outbox.
    let findings = audit(&owner, &AuditOptions::default()).await.unwrap();
    assert!(findings.is_empty(), "{findings:#?}");

    // What the migrations built delivers, as the application role.
    let app = db.app_role().await.unwrap().to_owned();
    let mut config = db.config().clone();
    config.user(&app);
    let pool = Pool::connect(config.clone(), PoolOptions::default())
        .await
        .unwrap();
    // Polling once a minute: only the trigger's notification wakes it.
    let mut options = RelayOptions::default();
    options.poll_interval = Duration::from_secs(60);
    let relay = Relay::<OutboxMessage>::new(pool.clone())
        .unwrap()
        .options(options)
        .unwrap()
        .listen(config);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let run = {
        let stop = stop.clone();
        tokio::spawn(async move {
            relay
                .run(
                    move |m: OutboxMessage| {
                        let tx = tx.clone();
                        async move { tx.send(m.payload["n"].as_i64()).map_err(|e| e.to_string()) }
                    },
                    async move { stop.notified().await },
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let conn = pool.get().await.unwrap();
    for n in 0..3 {
        Repo::new(&**conn).publish(&Pinged(n)).await.unwrap();
    }
    drop(conn);
    let mut got = Vec::new();
    while got.len() < 3 {
        let n = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("delivered")
            .expect("open");
        got.push(n.expect("a number"));
    }
    assert_eq!(got, [0, 1, 2], "in order: one key");
    // An outbox added to a schema that has tables: its function and
    // trigger come in the expand phase, after the table.
    let later = Folder::new();
    generate(&[Plain::SCHEMA], &*later, "plain", none)
        .await
        .unwrap();
    let steps = pending_steps(&[Plain::SCHEMA, OutboxMessage::SCHEMA], &*later, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    let up = steps[0].up.join(";\n");
    let table = up.find("CREATE TABLE \"outbox_messages\"").expect(&sql);
    let function = up
        .find("CREATE OR REPLACE FUNCTION public.outbox_messages_notify()")
        .expect(&sql);
    let trigger = up
        .find("CREATE TRIGGER outbox_messages_notify AFTER INSERT ON public.outbox_messages FOR EACH STATEMENT")
        .expect(&sql);
    assert!(table < function && function < trigger, "{sql}");
    stop.notify_one();
    assert_eq!(run.await.unwrap().unwrap().delivered, 3);
}
