//! The transactional outbox on a real PostgreSQL, as the application role:
//! `Repo::publish` in a tenant's transaction (an event exists if and only
//! if the change committed), relays delivering in order per key, retries
//! with backoff holding the key's later events back, 100,000 events
//! through four relays with two killed part-way (none lost, per-key order
//! kept), delivery latency woken by `NOTIFY` against polling only, and
//! relays through PgBouncer in transaction mode.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::ddl::SchemaDdl;
use ordinance::outbox::{Event, Relay, RelayOptions};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;
use ordinance_tests::bouncer::Bouncer;
use ordinance_tests::least_privilege_roles;

/// Events for other services.
#[derive(Entity, Debug, Clone)]
#[entity(outbox)]
pub struct OutboxEvent {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub topic: String,
    #[column(max_len = 40)]
    pub key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub available_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant's ticket, whose changes are announced.
#[derive(Entity, Debug, Clone)]
#[entity(tenant)]
pub struct Ticket {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 100)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A ticket was opened.
struct TicketOpened {
    ticket: Uuid,
    title: String,
}

impl Event for TicketOpened {
    type Outbox = OutboxEvent;
    const TOPIC: &'static str = "ticket_opened";
    fn key(&self) -> String {
        self.ticket.to_string()
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({ "ticket": self.ticket, "title": self.title })
    }
}

/// The `seq`-th event of `key`.
struct Numbered {
    key: String,
    seq: i64,
}

impl Event for Numbered {
    type Outbox = OutboxEvent;
    const TOPIC: &'static str = "numbered";
    fn key(&self) -> String {
        self.key.clone()
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({ "seq": self.seq })
    }
}

fn seq(event: &OutboxEvent) -> i64 {
    event.payload["seq"].as_i64().expect("a numbered event")
}

struct Setup {
    db: TestDatabase,
    app: String,
    cluster: Cluster,
}

impl Setup {
    async fn new() -> Setup {
        let schemas = [OutboxEvent::SCHEMA, Ticket::SCHEMA];
        let db = TestDatabase::with_schema(&SchemaDdl::new(&schemas).unwrap().up())
            .await
            .unwrap();
        let (app, _) = least_privilege_roles(&db, &schemas, false).await;
        let pool = Setup::pool_of(&db, &app, 4).await;
        let cluster = Cluster::new(pool, Vec::new(), ClusterOptions::default()).unwrap();
        Setup { db, app, cluster }
    }

    /// The application role's configuration, straight to PostgreSQL.
    fn config(&self) -> ordinance::deps::tokio_postgres::Config {
        let mut config = self.db.config().clone();
        config.user(&self.app);
        config
    }

    async fn pool_of(db: &TestDatabase, app: &str, size: usize) -> Pool {
        let mut config = db.config().clone();
        config.user(app);
        Pool::connect(
            config,
            PoolOptions {
                max_size: size,
                acquire_timeout: Duration::from_secs(10),
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap()
    }

    async fn pool(&self, size: usize) -> Pool {
        Setup::pool_of(&self.db, &self.app, size).await
    }

    async fn waiting(&self) -> i64 {
        self.cluster.repo().count::<OutboxEvent>().await.unwrap()
    }
}

fn options(lease_ms: u64, poll_ms: u64) -> RelayOptions {
    let mut options = RelayOptions::default();
    options.lease = Duration::from_millis(lease_ms);
    options.poll_interval = Duration::from_millis(poll_ms);
    options.backoff = Duration::from_millis(200);
    options.max_backoff = Duration::from_millis(800);
    options
}

/// Collects what a handler was given.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<OutboxEvent>>>);

impl Seen {
    fn push(&self, event: OutboxEvent) {
        self.0.lock().unwrap().push(event);
    }
    fn taken(&self) -> Vec<OutboxEvent> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn an_event_exists_if_and_only_if_its_change_committed() {
    let s = Setup::new().await;
    let tenant = Uuid::now_v7();
    let tenant_cluster = s.cluster.for_tenant(tenant);

    // Committed: the ticket and its event.
    let ticket = tenant_cluster
        .transaction(async |tx| {
            let repo = Repo::new(tx);
            let ticket = repo
                .insert(&NewTicket {
                    title: "Printer on fire".into(),
                })
                .await?;
            repo.publish(&TicketOpened {
                ticket: ticket.id,
                title: ticket.title.clone(),
            })
            .await?;
            Ok(ticket)
        })
        .await
        .unwrap();
    let events = s
        .cluster
        .repo()
        .list::<OutboxEvent>(&ordinance::query::live::<OutboxEvent>())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.topic, "ticket_opened");
    assert_eq!(event.key, ticket.id.to_string());
    assert_eq!(event.payload["title"], "Printer on fire");
    assert_eq!((event.attempts, event.last_error.as_deref()), (0, None));
    assert_eq!(event.id.get_version_num(), 7);

    // Rolled back after publishing: neither.
    let failed: ordinance::Result<()> = tenant_cluster
        .transaction(async |tx| {
            let repo = Repo::new(tx);
            let ticket = repo
                .insert(&NewTicket {
                    title: "Never happened".into(),
                })
                .await?;
            repo.publish(&TicketOpened {
                ticket: ticket.id,
                title: ticket.title,
            })
            .await?;
            Err(Error::Rollback("the request failed afterwards".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(s.waiting().await, 1, "the rolled-back event is not there");

    // A key longer than the outbox allows: refused, nothing written.
    let long = Numbered {
        key: "k".repeat(41),
        seq: 0,
    };
    let err = s.cluster.repo().publish(&long).await.unwrap_err();
    assert!(matches!(err, Error::CheckViolation { .. }), "{err}");
    assert_eq!(s.waiting().await, 1);

    // An entity that is not an outbox is refused by name.
    let not_outbox = Relay::<Ticket>::new(s.cluster.primary().clone()).unwrap_err();
    assert!(
        not_outbox
            .to_string()
            .contains("\"tickets\" is not an outbox"),
        "{not_outbox}"
    );
}

#[tokio::test]
async fn a_relay_delivers_each_keys_events_in_order_and_deletes_them() {
    let s = Setup::new().await;
    let repo = s.cluster.repo();
    for (key, n) in [("a", 3), ("b", 2), ("c", 1)] {
        for seq in 0..n {
            repo.publish(&Numbered {
                key: key.into(),
                seq,
            })
            .await
            .unwrap();
        }
    }
    let relay = Relay::<OutboxEvent>::new(s.pool(2).await).unwrap();
    let seen = Seen::default();
    let handler = {
        let seen = seen.clone();
        move |event: OutboxEvent| {
            let seen = seen.clone();
            async move {
                seen.push(event);
                Ok::<(), std::convert::Infallible>(())
            }
        }
    };
    // Only the oldest event of each key is claimed at a time.
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!((round.claimed, round.delivered), (3, 3));
    let first: Vec<(String, i64)> = seen
        .taken()
        .iter()
        .map(|e| (e.key.clone(), seq(e)))
        .collect();
    assert_eq!(
        first,
        [("a".into(), 0), ("b".into(), 0), ("c".into(), 0)],
        "one per key, oldest first"
    );
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.delivered, 2);
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.delivered, 1);
    let last: Vec<(String, i64)> = seen
        .taken()
        .iter()
        .map(|e| (e.key.clone(), seq(e)))
        .collect();
    assert_eq!(last, [("a".into(), 1), ("b".into(), 1), ("a".into(), 2)]);
    assert_eq!(relay.run_once(&handler).await.unwrap().claimed, 0);
    assert_eq!(s.waiting().await, 0, "delivered events are deleted");
}

#[tokio::test]
async fn a_failed_event_is_retried_with_backoff_and_holds_its_key_back() {
    // Deliveries and failures are counted.
    let store = ordinance_tests::recording::recorded();
    let s = Setup::new().await;
    let repo = s.cluster.repo();
    for (key, seq) in [("a", 0), ("a", 1), ("b", 0)] {
        repo.publish(&Numbered {
            key: key.into(),
            seq,
        })
        .await
        .unwrap();
    }
    let relay = Relay::<OutboxEvent>::new(s.pool(2).await)
        .unwrap()
        .options(options(5_000, 1_000))
        .unwrap();
    let seen = Seen::default();
    let fail_once = Arc::new(AtomicBool::new(true));
    let handler = {
        let (seen, fail_once) = (seen.clone(), fail_once.clone());
        move |event: OutboxEvent| {
            let (seen, fail_once) = (seen.clone(), fail_once.clone());
            async move {
                if event.key == "a" && fail_once.swap(false, Ordering::SeqCst) {
                    return Err(format!("the mail server refused event {}", seq(&event)));
                }
                seen.push(event);
                Ok(())
            }
        }
    };
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!((round.claimed, round.delivered, round.failed), (2, 1, 1));
    // "a"#0 waits for its backoff, and "a"#1 waits for it.
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.claimed, 0, "nothing of \"a\" may go before its first");
    let stored = s
        .cluster
        .repo()
        .list::<OutboxEvent>(&ordinance::query::live::<OutboxEvent>())
        .await
        .unwrap();
    let head = stored.iter().find(|e| seq(e) == 0).expect("a#0 kept");
    assert_eq!(head.attempts, 1);
    assert_eq!(
        head.last_error.as_deref(),
        Some("the mail server refused event 0")
    );
    assert!(
        head.available_at > head.updated_at,
        "scheduled after a delay"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.delivered, 1);
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.delivered, 1);
    let counted = |name: &str| {
        store
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.name == name)
            .count()
    };
    assert!(counted(ordinance::telemetry::OUTBOX_DELIVERED) >= 2);
    assert!(counted(ordinance::telemetry::OUTBOX_FAILED) >= 1);
    let order: Vec<(String, i64, i32)> = seen
        .taken()
        .iter()
        .map(|e| (e.key.clone(), seq(e), e.attempts))
        .collect();
    assert_eq!(
        order,
        [("b".into(), 0, 1), ("a".into(), 0, 2), ("a".into(), 1, 1)]
    );
    assert_eq!(s.waiting().await, 0);
}

/// What many relays saw: each key's sequence numbers in delivery order,
/// and any key handled by two relays at once.
#[derive(Default)]
struct Ledger {
    by_key: HashMap<String, Vec<i64>>,
    in_hand: HashSet<String>,
    overlaps: u64,
    handled: u64,
    /// Handled at a later attempt: taken over from a killed relay.
    taken_over: u64,
}

/// A key in a handler's hands until dropped.
struct InHand(Arc<Mutex<Ledger>>, String);

impl Drop for InHand {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_hand.remove(&self.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_relays_deliver_100k_events_with_two_killed_part_way() {
    const KEYS: i64 = 1_000;
    const EVENTS: i64 = 100_000;
    let s = Setup::new().await;
    // The backlog, written as `publish` writes it (one server clock, one
    // microsecond apart): event i is the (i / KEYS)-th of key i % KEYS.
    let owner = s.db.connect().await.unwrap();
    owner
        .execute(
            "INSERT INTO outbox_events (id, topic, key, payload, attempts, available_at, created_at, updated_at) \
             SELECT gen_random_uuid(), 'numbered', 'k' || (i % $1::int8), jsonb_build_object('seq', i / $1::int8), 0, \
                    now(), now() + i * interval '1 microsecond', now() \
             FROM generate_series(0, $2::int8 - 1) AS i",
            &[&KEYS, &EVENTS],
        )
        .await
        .unwrap();

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let handler = {
        let ledger = ledger.clone();
        move |event: OutboxEvent| {
            let ledger = ledger.clone();
            async move {
                {
                    let mut l = ledger.lock().unwrap();
                    if !l.in_hand.insert(event.key.clone()) {
                        l.overlaps += 1;
                    }
                }
                // Out of hand however the handler ends, a kill included.
                let _hand = InHand(ledger.clone(), event.key.clone());
                // Delivery takes a moment: a kill lands mid-handler.
                tokio::task::yield_now().await;
                let mut l = ledger.lock().unwrap();
                l.by_key
                    .entry(event.key.clone())
                    .or_default()
                    .push(seq(&event));
                l.handled += 1;
                l.taken_over += u64::from(event.attempts > 1);
                Ok::<(), std::convert::Infallible>(())
            }
        }
    };
    let started = Instant::now();
    let mut relays = Vec::new();
    let stops: Vec<_> = (0..4)
        .map(|_| Arc::new(tokio::sync::Notify::new()))
        .collect();
    for stop in &stops {
        let relay = Relay::<OutboxEvent>::new(s.pool(2).await)
            .unwrap()
            .options(options(2_000, 500))
            .unwrap()
            .listen(s.config());
        let (handler, stop) = (handler.clone(), stop.clone());
        relays.push(tokio::spawn(async move {
            relay
                .run(handler, async move { stop.notified().await })
                .await
        }));
    }
    let handled = || ledger.lock().unwrap().handled;
    // Kill one relay at 20% and another at 50%: mid-batch, mid-handler.
    for (relay, at) in [(0, EVENTS / 5), (1, EVENTS / 2)] {
        while handled() < at as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        relays[relay].abort();
    }
    let deadline = Instant::now() + Duration::from_secs(240);
    while s.waiting().await > 0 {
        assert!(
            Instant::now() < deadline,
            "{} events left",
            s.waiting().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let mut stats = Vec::new();
    for (i, relay) in relays.into_iter().enumerate().skip(2) {
        stops[i].notify_one();
        stats.push(relay.await.unwrap().unwrap());
    }

    let l = ledger.lock().unwrap();
    assert_eq!(l.overlaps, 0, "a key was in two handlers at once");
    assert_eq!(l.by_key.len(), KEYS as usize);
    let mut redelivered = 0;
    for (key, seqs) in &l.by_key {
        let mut expected = 0;
        for (i, &n) in seqs.iter().enumerate() {
            if i > 0 && n == seqs[i - 1] {
                redelivered += 1; // the killed relay's event in hand
                continue;
            }
            assert_eq!(n, expected, "{key}: out of order in {seqs:?}");
            expected += 1;
        }
        assert_eq!(expected, EVENTS / KEYS, "{key}: events lost");
    }
    assert!(redelivered <= 2, "{redelivered} events delivered twice");
    // The killed relays held claims; their leases expired and the others
    // delivered them.
    assert!(
        l.taken_over > 0,
        "no event was taken over from a killed relay"
    );
    let delivered: u64 = stats.iter().map(|s| s.delivered).sum();
    eprintln!(
        "100,000 events, 1,000 keys, 4 relays (2 killed): {:.1} s, {:.0} events/s; \
         the survivors delivered {delivered} ({} taken over from the killed), redelivered {redelivered}; {stats:?}",
        elapsed.as_secs_f64(),
        EVENTS as f64 / elapsed.as_secs_f64(),
        l.taken_over,
    );
}

/// Publishes `n` events, one per transaction, `gap` apart, while one
/// relay runs; returns the delivery latencies (commit to handler).
async fn latencies(s: &Setup, relay: Relay<OutboxEvent>, n: usize, gap: Duration) -> Vec<Duration> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (got, stop) = (got.clone(), stop.clone());
        tokio::spawn(async move {
            relay
                .run(
                    move |event: OutboxEvent| {
                        let got = got.clone();
                        async move {
                            let published: DateTime<Utc> = event.payload["at"]
                                .as_str()
                                .and_then(|t| t.parse().ok())
                                .expect("a timestamp");
                            let late = (Utc::now() - published).to_std().unwrap_or_default();
                            got.lock().unwrap().push(late);
                            Ok::<(), std::convert::Infallible>(())
                        }
                    },
                    async move { stop.notified().await },
                )
                .await
        })
    };
    // Let the listener start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    struct Stamped(i64);
    impl Event for Stamped {
        type Outbox = OutboxEvent;
        const TOPIC: &'static str = "stamped";
        fn key(&self) -> String {
            format!("k{}", self.0 % 10)
        }
        fn payload(&self) -> serde_json::Value {
            serde_json::json!({ "at": Utc::now() })
        }
    }
    for i in 0..n {
        s.cluster
            .transaction(async |tx| Repo::new(tx).publish(&Stamped(i as i64)).await)
            .await
            .unwrap();
        tokio::time::sleep(gap).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.lock().unwrap().len() < n {
        assert!(Instant::now() < deadline, "events not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.notify_one();
    task.await.unwrap().unwrap();
    let mut all = got.lock().unwrap().clone();
    all.sort();
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_deliver_in_milliseconds_where_polling_waits() {
    let s = Setup::new().await;
    // Woken by NOTIFY; a 10 s poll would make any missed wake-up obvious.
    let listening = Relay::<OutboxEvent>::new(s.pool(2).await)
        .unwrap()
        .options(options(5_000, 10_000))
        .unwrap()
        .listen(s.config());
    let notified = latencies(&s, listening, 200, Duration::from_millis(5)).await;
    // Polling only, every 250 ms.
    let polling = Relay::<OutboxEvent>::new(s.pool(2).await)
        .unwrap()
        .options(options(5_000, 250))
        .unwrap();
    let polled = latencies(&s, polling, 200, Duration::from_millis(5)).await;
    let (n50, n99) = (percentile(&notified, 0.5), percentile(&notified, 0.99));
    let (p50, p99) = (percentile(&polled, 0.5), percentile(&polled, 0.99));
    eprintln!(
        "delivery latency, 200 events: NOTIFY median {n50:?} p99 {n99:?}; \
         polling every 250 ms median {p50:?} p99 {p99:?}"
    );
    // Without the notifications the first would wait for its 10 s poll.
    assert!(n99 < Duration::from_secs(2), "NOTIFY p99 {n99:?}");
    assert!(n50 < p50, "NOTIFY {n50:?} vs polling {p50:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_work_through_pgbouncer_in_transaction_mode() {
    let s = Setup::new().await;
    let Some(bouncer) = Bouncer::start_for(&s.db, 2, &[&s.app]) else {
        return;
    };
    let config = bouncer.config_as(&s.db, &s.app);
    let pooled = Pool::connect(config, PoolOptions::default()).await.unwrap();
    // Claims and deliveries through PgBouncer, unnamed; LISTEN on a
    // session straight to PostgreSQL.
    let relay = Relay::<OutboxEvent>::new(pooled)
        .unwrap()
        .unnamed_statements()
        .options(options(5_000, 10_000))
        .unwrap()
        .listen(s.config());
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (count, stop) = (count.clone(), stop.clone());
        tokio::spawn(async move {
            relay
                .run(
                    move |_: OutboxEvent| {
                        let count = count.clone();
                        async move {
                            count.fetch_add(1, Ordering::SeqCst);
                            Ok::<(), std::convert::Infallible>(())
                        }
                    },
                    async move { stop.notified().await },
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for seq in 0..50 {
        s.cluster
            .repo()
            .publish(&Numbered {
                key: format!("k{}", seq % 5),
                seq,
            })
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while count.load(Ordering::SeqCst) < 50 {
        assert!(Instant::now() < deadline, "not delivered through PgBouncer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.notify_one();
    let stats = task.await.unwrap().unwrap();
    assert_eq!(stats.delivered, 50);
    assert!(stats.notifications > 0, "{stats:?}");
    assert_eq!(s.waiting().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_outliving_the_lease_is_stopped_and_its_event_tried_again() {
    let s = Setup::new().await;
    // `publish` is `Send`: it runs in a spawned task.
    let cluster = s.cluster.clone();
    tokio::spawn(async move {
        cluster
            .repo()
            .publish(&Numbered {
                key: "slow".into(),
                seq: 0,
            })
            .await
    })
    .await
    .unwrap()
    .unwrap();
    let relay = Relay::<OutboxEvent>::new(s.pool(2).await)
        .unwrap()
        .options(options(400, 1_000))
        .unwrap();
    let slow_once = Arc::new(AtomicBool::new(true));
    let handler = {
        let slow_once = slow_once.clone();
        move |_: OutboxEvent| {
            let slow_once = slow_once.clone();
            async move {
                if slow_once.swap(false, Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Ok::<(), std::convert::Infallible>(())
            }
        }
    };
    let started = Instant::now();
    let round = relay.run_once(&handler).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "not cut short");
    assert_eq!((round.delivered, round.failed), (0, 1));
    let stored = s
        .cluster
        .repo()
        .list::<OutboxEvent>(&ordinance::query::live::<OutboxEvent>())
        .await
        .unwrap();
    let error = stored[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("ran past the lease"), "{error}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let round = relay.run_once(&handler).await.unwrap();
    assert_eq!(round.delivered, 1);
    assert_eq!(s.waiting().await, 0);
}
