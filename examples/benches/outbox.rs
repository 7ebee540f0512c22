//! The cost of the transactional outbox, in one run on one server:
//! `Repo::publish` inside the transaction of the change (an insert), against
//! the same transaction without the event; then how fast one relay and four
//! relays drain a backlog of 20,000 events (1,000 keys) through a handler
//! that does nothing.
//!
//! `cargo bench -p ordinance-examples --bench outbox` prints medians and
//! ratios. Pin it (`taskset -c 1 cargo bench ...`): the throwaway server is
//! its child and shares the placement.

// One benchmark at a time on one thread: a borrowed connection is never
// contended.
#![allow(clippy::await_holding_refcell_ref)]

mod common;

use std::cell::RefCell;
use std::time::Instant;

use ordinance::ddl::SchemaDdl;
use ordinance::exec::transaction;
use ordinance::outbox::{Event, Relay};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

/// The change.
#[derive(Entity, Debug, Clone)]
pub struct Order {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub amount: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The outbox.
#[derive(Entity, Debug, Clone)]
#[entity(outbox)]
pub struct OutboxEvent {
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

/// An order was placed.
struct Placed {
    order: Uuid,
    amount: i32,
}

impl Event for Placed {
    type Outbox = OutboxEvent;
    const TOPIC: &'static str = "order_placed";
    fn key(&self) -> String {
        self.order.to_string()
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({ "order": self.order, "amount": self.amount })
    }
}

const RUNS: (usize, usize) = (200, 2_000);
const BACKLOG: i64 = 20_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ddl = SchemaDdl::new(&[Order::SCHEMA, OutboxEvent::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up())
        .await
        .expect("database");
    let conn = RefCell::new(db.connect().await.expect("connect"));
    println!(
        "outbox: a transaction inserting one row, with Repo::publish against without, medians of {}",
        RUNS.1
    );
    let done = common::pair(
        "publish",
        "insert + publish",
        "insert alone",
        RUNS,
        |i| {
            let conn = &conn;
            async move {
                let mut conn = conn.borrow_mut();
                transaction(&mut *conn, async |tx| {
                    let repo = Repo::new(&*tx);
                    let order = repo
                        .insert(&NewOrder {
                            title: format!("order {i}"),
                            amount: 1,
                        })
                        .await?;
                    repo.publish(&Placed {
                        order: order.id,
                        amount: order.amount,
                    })
                    .await
                })
                .await
                .expect("publish");
            }
        },
        |i| {
            let conn = &conn;
            async move {
                let mut conn = conn.borrow_mut();
                transaction(&mut *conn, async |tx| {
                    Repo::new(&*tx)
                        .insert(&NewOrder {
                            title: format!("order {i}"),
                            amount: 1,
                        })
                        .await
                })
                .await
                .expect("insert");
            }
        },
    )
    .await;
    if done {
        return;
    }

    // Draining: what the relays add per event (a claim per batch, a
    // delete per event), the handler doing nothing.
    let owner = conn.borrow();
    for relays in [1, 4] {
        owner
            .batch_execute("DELETE FROM outbox_events")
            .await
            .expect("empty");
        owner
            .execute(
                "INSERT INTO outbox_events (topic, key, payload, created_at) \
                 SELECT 'order_placed', 'k' || (i % 1000), '{}', now() + i * interval '1 microsecond' \
                 FROM generate_series(0, $1::int8 - 1) AS i",
                &[&BACKLOG],
            )
            .await
            .expect("backlog");
        let started = Instant::now();
        let mut running = Vec::new();
        for _ in 0..relays {
            let pool = Pool::connect(db.config().clone(), PoolOptions::default())
                .await
                .expect("pool");
            let relay = Relay::<OutboxEvent>::new(pool).expect("relay");
            running.push(tokio::spawn(async move {
                let mut delivered = 0;
                loop {
                    let round = relay
                        .run_once(&|_: OutboxEvent| async {
                            Ok::<(), std::convert::Infallible>(())
                        })
                        .await
                        .expect("round");
                    if round.claimed == 0 {
                        return delivered;
                    }
                    delivered += round.delivered;
                }
            }));
        }
        let mut delivered = 0;
        for relay in running {
            delivered += relay.await.expect("relay");
        }
        let took = started.elapsed();
        println!(
            "{relays} relay(s) drained {delivered} events in {:.2} s: {:.0} events/s, {:.0} µs per event",
            took.as_secs_f64(),
            delivered as f64 / took.as_secs_f64(),
            took.as_micros() as f64 / delivered.max(1) as f64
        );
    }
}
