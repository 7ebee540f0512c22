//! A cluster over a real primary and a real streaming standby (started by
//! the harness with `pg_basebackup -R`): reads go to the standby, writes
//! to the primary; a handle reads its own writes; a stopped standby and a
//! standby whose replay is paused are skipped (or waited for, as set).

use std::time::{Duration, Instant};

use ordinance::cluster::{Cluster, ClusterOptions, WhenBehind};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::deps::tokio_postgres::Client;
use ordinance::exec::{Access, Executor, Sql};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::testing::{connect, TestServer};
use ordinance_tests::*;

/// A primary holding the fixture schema, and its standby.
struct Servers {
    primary: TestServer,
    standby: TestServer,
}

async fn servers() -> Servers {
    let primary = TestServer::start_dedicated().expect("primary");
    let ddl = ordinance::ddl::SchemaDdl::new(&all_schemas()).expect("schema");
    connect(primary.config())
        .await
        .expect("connect")
        .batch_execute(&ddl.up())
        .await
        .expect("schema");
    let standby = primary.start_standby().expect("standby");
    Servers { primary, standby }
}

async fn pool(server: &TestServer) -> Pool {
    let options = PoolOptions {
        max_size: 8,
        acquire_timeout: Duration::from_secs(2),
        ..PoolOptions::default()
    };
    Pool::connect(server.config().clone(), options)
        .await
        .expect("pool")
}

async fn cluster(servers: &Servers, options: ClusterOptions) -> Cluster {
    let cluster = Cluster::new(
        pool(&servers.primary).await,
        vec![pool(&servers.standby).await],
        options,
    )
    .expect("cluster");
    // The standby serves once it streams from the primary.
    back_on_the_standby(&cluster.session(), 30).await;
    cluster
}

fn options() -> ClusterOptions {
    ClusterOptions {
        health_interval: Duration::from_millis(50),
        ..ClusterOptions::default()
    }
}

/// Whether the connection a statement of `access` is served by is a standby.
async fn on_standby(handle: &Cluster, access: Access) -> bool {
    let row = handle
        .query_opt(access, Sql::Built("SELECT pg_is_in_recovery()"), &[], &[])
        .await
        .expect("pg_is_in_recovery")
        .expect("a row");
    row.get(0)
}

/// Waits until `handle`'s reads are served by the standby, for at most
/// `seconds`.
async fn back_on_the_standby(handle: &Cluster, seconds: u64) {
    let started = Instant::now();
    while !on_standby(handle, Access::Read).await {
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "never (back) on the standby: {:?}",
            handle.replica_health()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn set_replay(standby: &TestServer, paused: bool) {
    let sql = if paused {
        "SELECT pg_wal_replay_pause()"
    } else {
        "SELECT pg_wal_replay_resume()"
    };
    connect(standby.config())
        .await
        .expect("standby")
        .batch_execute(sql)
        .await
        .expect("replay");
}

/// An organization written straight to the primary, outside the cluster.
async fn write_behind_its_back(servers: &Servers, name: &str) -> Uuid {
    let conn = connect(servers.primary.config()).await.expect("primary");
    let org = ordinance::repo::Repo::new(&conn)
        .insert(&new_organization(name))
        .await
        .expect("insert");
    org.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_standby_and_writes_to_the_primary() {
    let servers = servers().await;
    let cluster = cluster(&servers, options()).await;
    assert!(on_standby(&cluster, Access::Read).await);
    assert!(!on_standby(&cluster, Access::Write).await);
    assert!(!on_standby(&cluster.on_primary(), Access::Read).await);

    // With replay paused, a row written on the primary is missing from the
    // standby: a repository read that misses it was served by the standby.
    set_replay(&servers.standby, true).await;
    let id = write_behind_its_back(&servers, "routing").await;
    let reader = cluster.session();
    assert_eq!(reader.repo().find::<Organization>(id).await.unwrap(), None);
    assert_eq!(reader.repo().count::<Organization>().await.unwrap(), 0);
    let this_one = ordinance::query::live::<Organization>()
        .and_where(Expr::col(OrganizationColumn::Id).eq(id))
        .to_owned();
    let repo = reader.repo();
    assert_eq!(
        repo.count_matching::<Organization>(&this_one)
            .await
            .unwrap(),
        0
    );
    assert!(!repo
        .exists_matching::<Organization>(&this_one)
        .await
        .unwrap());
    let primary = cluster.on_primary();
    assert_eq!(
        primary
            .repo()
            .count_matching::<Organization>(&this_one)
            .await
            .unwrap(),
        1
    );
    assert!(primary
        .repo()
        .exists_matching::<Organization>(&this_one)
        .await
        .unwrap());
    let page = ordinance::page::Pager::<User>::new().unwrap();
    assert!(reader
        .repo()
        .first_page(&page)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(cluster
        .on_primary()
        .repo()
        .find::<Organization>(id)
        .await
        .unwrap()
        .is_some());
    // A write through the cluster lands on the primary (a standby refuses it).
    let org = reader
        .repo()
        .insert(&new_organization("written"))
        .await
        .expect("a write goes to the primary");
    assert_eq!(org.version, 1);
    set_replay(&servers.standby, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_reads_its_own_writes_then_returns_to_the_standby() {
    let servers = servers().await;
    let options = ClusterOptions {
        read_your_writes: Duration::from_secs(60),
        ..options()
    };
    let cluster = cluster(&servers, options).await;
    set_replay(&servers.standby, true).await;

    let writer = cluster.session();
    let org = writer
        .repo()
        .insert(&new_organization("mine"))
        .await
        .unwrap();
    // The writer sees its row, from the primary ...
    assert_eq!(
        writer.repo().get::<Organization>(org.id).await.unwrap(),
        org
    );
    assert!(!on_standby(&writer, Access::Read).await);
    // ... while a handle that wrote nothing reads the paused standby: the
    // control, showing the standby does not have it.
    let other = cluster.session();
    assert_eq!(
        other.repo().find::<Organization>(org.id).await.unwrap(),
        None
    );
    assert!(on_standby(&other, Access::Read).await);

    // A transaction's write counts too.
    let in_tx = cluster.session();
    let id = in_tx
        .transaction(async |tx| {
            Ok(ordinance::repo::Repo::new(&*tx)
                .insert(&new_organization("in a transaction"))
                .await?
                .id)
        })
        .await
        .unwrap();
    assert!(in_tx
        .repo()
        .find::<Organization>(id)
        .await
        .unwrap()
        .is_some());

    // Once the standby replays past the write, the writer reads there
    // again, long before its 60 s window ends.
    set_replay(&servers.standby, false).await;
    back_on_the_standby(&writer, 10).await;
    assert_eq!(
        writer.repo().get::<Organization>(org.id).await.unwrap(),
        org
    );
}

/// A write the server refuses wrote nothing: the handle keeps reading
/// from the standby. One the server took sends its reads to the primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_leaves_reads_on_the_standby() {
    let servers = servers().await;
    let options = ClusterOptions {
        read_your_writes: Duration::from_secs(60),
        ..options()
    };
    let cluster = cluster(&servers, options).await;
    let taken = cluster
        .repo()
        .insert(&new_organization("taken"))
        .await
        .unwrap();
    back_on_the_standby(&cluster.session(), 10).await;

    let writer = cluster.session();
    let refused = writer
        .repo()
        .insert_with_id(taken.id, &new_organization("another"))
        .await;
    assert!(
        matches!(refused, Err(ordinance::Error::UniqueViolation { .. })),
        "{refused:?}"
    );
    assert!(on_standby(&writer, Access::Read).await);
    // The same through a tenant's handle, each statement a transaction of
    // its own.
    let scoped = writer.as_actor(Uuid::now_v7());
    let refused = scoped
        .repo()
        .insert_with_id(taken.id, &new_organization("a third"))
        .await;
    assert!(
        matches!(refused, Err(ordinance::Error::UniqueViolation { .. })),
        "{refused:?}"
    );
    assert!(on_standby(&scoped, Access::Read).await);

    set_replay(&servers.standby, true).await;
    writer
        .repo()
        .insert(&new_organization("accepted"))
        .await
        .unwrap();
    assert!(!on_standby(&writer, Access::Read).await);
    set_replay(&servers.standby, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_stopped_mid_test_fails_no_read() {
    let servers = servers().await;
    let cluster = cluster(&servers, options()).await;
    let org = cluster
        .repo()
        .insert(&new_organization("durable"))
        .await
        .unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            // Clones share the write, so they read it wherever it is.
            let handle = cluster.clone();
            tokio::spawn(async move {
                let mut reads = 0u32;
                let until = Instant::now() + Duration::from_millis(1500);
                while Instant::now() < until {
                    handle
                        .repo()
                        .get::<Organization>(org.id)
                        .await
                        .expect("no read fails while the standby stops");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    servers.standby.shut_down().expect("stop the standby");
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    assert!(
        !on_standby(&cluster, Access::Read).await,
        "the primary serves"
    );
    assert!(!cluster.replica_health()[0].up);

    servers.standby.start_again().expect("start the standby");
    back_on_the_standby(&cluster, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_standby_is_skipped_or_waited_for_as_configured() {
    let metrics = ordinance_tests::recording::recorded();
    let servers = servers().await;
    let skip = cluster(
        &servers,
        ClusterOptions {
            max_lag: Duration::from_millis(200),
            ..options()
        },
    )
    .await;
    let wait = cluster(
        &servers,
        ClusterOptions {
            max_lag: Duration::from_millis(200),
            when_behind: WhenBehind::Wait(Duration::from_secs(10)),
            ..options()
        },
    )
    .await;

    // Replay paused while the primary keeps writing: the standby falls
    // behind by more than the bound.
    set_replay(&servers.standby, true).await;
    write_behind_its_back(&servers, "lag 1").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    write_behind_its_back(&servers, "lag 2").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(skip.replica_health()[0].up);
    assert!(
        !on_standby(&skip, Access::Read).await,
        "skipped: the primary serves"
    );
    assert_eq!(skip.repo().count::<Organization>().await.unwrap(), 2);
    // What a health endpoint and the metrics say meanwhile.
    let health = skip.health().await;
    let replica = &health.replicas[0];
    assert_eq!(replica.pool.name, "replica-0");
    assert!(replica.up && !replica.routable, "{health:?}");
    // Unknown (it replayed no transaction yet) or past the bound.
    assert!(replica.lag_seconds.is_none_or(|l| l > 0.2), "{health:?}");
    let recorded = |name: &str| ordinance_tests::recording::samples(&metrics, name, "replica-0");
    assert!(!recorded(ordinance::telemetry::REPLICA_SKIPS).is_empty());
    // Its lag as checked while it still kept up.
    assert!(!recorded(ordinance::telemetry::REPLICA_LAG).is_empty());

    // The waiting handle holds the read until replay resumes.
    let standby = servers.standby.config().clone();
    let resume = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        connect(&standby)
            .await
            .unwrap()
            .batch_execute("SELECT pg_wal_replay_resume()")
            .await
            .unwrap();
    });
    let started = Instant::now();
    assert!(
        on_standby(&wait, Access::Read).await,
        "served by the standby after waiting"
    );
    assert!(started.elapsed() >= Duration::from_millis(400), "it waited");
    resume.await.unwrap();
    assert_eq!(wait.repo().count::<Organization>().await.unwrap(), 2);
}

/// The standby's backend serving a read is ended after it sent its first
/// rows (`pg_terminate_backend`, as a shutdown does): the whole result is
/// read again elsewhere, as nothing of it was handed out yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_cut_off_after_its_first_rows_runs_again_on_the_primary() {
    let servers = servers().await;
    let cluster = cluster(&servers, options()).await;
    let writer = cluster.session();
    for k in 0..20 {
        writer
            .repo()
            .insert(&new_organization(&format!("slow {k:02}")))
            .await
            .unwrap();
    }
    // A fresh session has no write to wait for: it reads on the standby,
    // once the standby has the rows.
    let reader = cluster.session();
    let started = Instant::now();
    while reader.repo().count::<Organization>().await.unwrap() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never replayed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(on_standby(&reader, Access::Read).await);

    // Each row takes 50 ms to pass the filter, and is sent as it passes
    // (no ORDER BY, so no sort waits for them all): the read is still going
    // when its backend is ended, after its first rows were sent.
    let slow = ordinance::query::live::<Organization>()
        .and_where(Expr::cust("pg_sleep(0.05)::text = ''"))
        .to_owned();
    let read = tokio::spawn({
        let reader = reader.clone();
        async move { reader.repo().list::<Organization>(&slow).await }
    });
    end_the_read(&servers.standby, "pg_sleep(0.05)").await;
    let rows = read
        .await
        .unwrap()
        .expect("the read runs again on the primary");
    let mut names: Vec<_> = rows.iter().map(|org| org.name.clone()).collect();
    names.sort();
    let expected: Vec<_> = (0..20).map(|k| format!("slow {k:02}")).collect();
    assert_eq!(names, expected);
    // Only one of its backends went away: once checked, it serves again.
    back_on_the_standby(&reader, 10).await;

    // The same for a statement of the caller's own, taken whole.
    let read = tokio::spawn({
        let reader = reader.clone();
        async move {
            reader
                .query(
                    Access::Read,
                    Sql::Built(
                        "SELECT pg_is_in_recovery() FROM generate_series(1, 20) \
                         WHERE pg_sleep(0.06)::text = ''",
                    ),
                    &[],
                    &[],
                )
                .await
        }
    });
    end_the_read(&servers.standby, "pg_sleep(0.06)").await;
    let rows = read.await.unwrap().expect("run again on the primary");
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|row| !row.get::<_, bool>(0)), "the primary");
}

/// Ends the standby's backend running the statement whose text holds
/// `marker`, once it has run for a while (so it sent its first rows).
async fn end_the_read(standby: &TestServer, marker: &str) {
    let standby = connect(standby.config()).await.expect("standby");
    let pattern = format!("%{marker}%");
    let started = Instant::now();
    loop {
        let serving = Client::query(
            &standby,
            "SELECT pid FROM pg_stat_activity \
             WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid() \
             AND now() - query_start > interval '200 milliseconds'",
            &[&pattern],
        )
        .await
        .expect("pg_stat_activity");
        if let Some(row) = serving.first() {
            let pid: i32 = row.get(0);
            Client::execute(&standby, "SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .expect("terminate");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the read never ran on the standby"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
