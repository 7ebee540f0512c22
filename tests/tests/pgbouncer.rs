//! The unnamed, typed mode through a real PgBouncer in transaction pooling
//! mode, in front of the throwaway server.
//!
//! PgBouncer comes from the system (`apt-get install pgbouncer`). Without it
//! these tests say so on stderr and pass; with `ORDINANCE_REQUIRE_PGBOUNCER`
//! set (as `.ci/run` does) a missing PgBouncer fails them.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ordinance::batch::{insert_many, insert_many_count};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::repo::{transaction, Repo, Unnamed};
use ordinance::testing::TestDatabase;
use ordinance::{query, Error};
use ordinance_tests::*;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// Where PgBouncer is, if installed.
fn pgbouncer_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    on_path
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| p.is_file())
}

/// A PgBouncer process in transaction pooling mode, listening on a Unix
/// socket in its own directory; stopped and removed on drop.
struct Bouncer {
    child: Child,
    dir: PathBuf,
}

const PORT: u16 = 6432;

impl Bouncer {
    /// Starts PgBouncer with `pool_size` server connections per database, or
    /// returns `None` when it is not installed and not required.
    fn start(db: &TestDatabase, pool_size: u32) -> Option<Bouncer> {
        let Some(binary) = pgbouncer_binary() else {
            assert!(
                std::env::var_os("ORDINANCE_REQUIRE_PGBOUNCER").is_none(),
                "ORDINANCE_REQUIRE_PGBOUNCER is set but pgbouncer is not installed \
                 (apt-get install pgbouncer)"
            );
            eprintln!("pgbouncer is not installed: skipping (apt-get install pgbouncer)");
            return None;
        };
        let upstream = db.config();
        let host = match upstream.get_hosts().first().expect("a host") {
            Host::Unix(path) => path.display().to_string(),
            Host::Tcp(name) => name.clone(),
        };
        let port = upstream.get_ports().first().copied().unwrap_or(5432);
        let user = upstream.get_user().expect("a user").to_owned();
        let dir = std::env::temp_dir().join(format!(
            "ordinance-pgbouncer-{}-{}",
            std::process::id(),
            db.name()
        ));
        std::fs::create_dir_all(&dir).expect("bouncer dir");
        let ini = format!(
            "[databases]\n\
             * = host={host} port={port} user={user}\n\
             [pgbouncer]\n\
             listen_addr =\n\
             listen_port = {PORT}\n\
             unix_socket_dir = {dir}\n\
             auth_type = trust\n\
             auth_file = {dir}/users.txt\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             max_client_conn = 100\n\
             server_round_robin = 0\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {dir}/pgbouncer.log\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini).expect("ini");
        std::fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).expect("users");
        let mut command = Command::new(binary);
        command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // PgBouncer refuses to run as root: run it as the server's user.
        if let Some((uid, gid)) = postgres_ids() {
            for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
                std::os::unix::fs::chown(entry.path(), Some(uid), Some(gid)).expect("chown");
            }
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
            command.uid(uid).gid(gid);
        }
        let child = command.spawn().expect("start pgbouncer");
        let bouncer = Bouncer { child, dir };
        bouncer.wait_until_listening();
        Some(bouncer)
    }

    fn wait_until_listening(&self) {
        let socket = self.dir.join(format!(".s.PGSQL.{PORT}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not start; its log:\n{}",
                std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A client of `db` through PgBouncer.
    async fn connect(&self, db: &TestDatabase) -> Client {
        let mut config = Config::new();
        config
            .host_path(&self.dir)
            .port(PORT)
            .user(db.config().get_user().expect("user"))
            .dbname(db.name());
        let (client, connection) = config.connect(NoTls).await.expect("connect via pgbouncer");
        tokio::spawn(connection);
        client
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `postgres` user's ids when running as root.
fn postgres_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        Some((id("-u")?, id("-g")?))
    } else {
        None
    }
}

/// Pins the server connection PgBouncer used last (it hands out the most
/// recently used one first) inside an open transaction.
async fn pin_last_used_connection(client: &Client) {
    client.batch_execute("BEGIN").await.expect("begin");
    client
        .simple_query("SELECT 1")
        .await
        .expect("pin a server connection");
}

#[tokio::test]
async fn named_statements_break_behind_transaction_pooling() {
    // The control: shows that the setup below does separate prepare from
    // execute, so the unnamed test's success means something.
    let db = fixture_database().await;
    let Some(bouncer) = Bouncer::start(&db, 2) else {
        return;
    };
    let a = bouncer.connect(&db).await;
    let b = bouncer.connect(&db).await;
    let statement = a.prepare("SELECT 1").await.expect("prepare");
    pin_last_used_connection(&b).await;
    let err = a
        .query(&statement, &[])
        .await
        .expect_err("the prepared statement lives on the pinned connection");
    let code = err.code().expect("a server error").code();
    assert_eq!(code, "26000", "invalid_sql_statement_name, got: {err}");
}

#[tokio::test]
async fn the_unnamed_mode_works_behind_transaction_pooling() {
    let db = fixture_database().await;
    let Some(bouncer) = Bouncer::start(&db, 2) else {
        return;
    };
    let client = bouncer.connect(&db).await;
    let other = bouncer.connect(&db).await;
    let unnamed = Unnamed(&client);
    let repo = Repo::new(&unnamed);

    let org = repo
        .insert(&new_organization("Bouncer"))
        .await
        .expect("insert");
    // Between every two statements, the connection just used is pinned by
    // another client, so the next statement lands on a different one.
    pin_last_used_connection(&other).await;
    let read: Organization = repo.get(org.id).await.expect("get");
    assert_eq!(read, org);
    other.batch_execute("COMMIT").await.expect("release");

    let user = repo
        .insert(&new_user(org.id, "bouncer@example.com"))
        .await
        .expect("user");
    pin_last_used_connection(&other).await;
    let mut changed = user.clone();
    changed.display_name = Some("Changed".into());
    let changed = repo.update(&changed).await.expect("update");
    assert_eq!(changed.version, 2);
    other.batch_execute("COMMIT").await.expect("release");

    assert!(matches!(
        repo.update(&user).await,
        Err(Error::StaleVersion {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    let deleted = repo.soft_delete(&changed).await.expect("soft delete");
    assert!(repo.find::<User>(user.id).await.expect("find").is_none());
    let restored = repo.restore(&deleted).await.expect("restore");
    assert_eq!(restored.version, 4);
    let listed: Vec<User> = repo
        .list(
            query::live::<User>().and_where(Expr::col(UserColumn::Email).eq("bouncer@example.com")),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(repo.count::<User>().await.expect("count"), 1);
    assert!(repo.purge::<User>(user.id).await.expect("purge"));

    // A transaction keeps one server connection until it ends.
    let mut tx_client = bouncer.connect(&db).await;
    let ids = transaction(&mut tx_client, async |tx| {
        let unnamed = Unnamed(tx);
        let repo = Repo::new(&unnamed);
        let a = repo.insert(&new_task(org.id, "a")).await?;
        let b = repo.insert(&new_task(org.id, "b")).await?;
        Ok(vec![a.id, b.id])
    })
    .await
    .expect("transaction");
    let tasks: Vec<Task> = repo.list(&query::live::<Task>()).await.expect("list tasks");
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), ids);

    // A batch runs in one transaction, so it keeps one server connection,
    // while another client holds the other one.
    pin_last_used_connection(&other).await;
    let batch: Vec<NewTask> = (0..500)
        .map(|i| new_task(org.id, &format!("b{i}")))
        .collect();
    let stored = insert_many(&mut tx_client, &batch).await.expect("batch");
    assert_eq!(stored.len(), 500);
    assert_eq!(
        insert_many_count(&mut tx_client, &batch)
            .await
            .expect("batch"),
        500
    );
    other.batch_execute("COMMIT").await.expect("release");
    let batched = 1000;

    // Keyset pages, one unnamed statement each.
    let pager = ordinance::page::Pager::<Task>::new()
        .expect("pager")
        .size(200)
        .expect("size");
    let mut seen = 0;
    let mut page = repo.first_page(&pager).await.expect("first page");
    loop {
        seen += page.items.len();
        let Some(next) = page.next.clone() else { break };
        page = repo.page_at(&pager, &next).await.expect("next page");
    }
    assert_eq!(seen as i64, 2 + batched);

    // Concurrent clients share two server connections.
    let mut workers = Vec::new();
    for w in 0..8 {
        let client = bouncer.connect(&db).await;
        let org = org.id;
        workers.push(tokio::spawn(async move {
            let unnamed = Unnamed(&client);
            let repo = Repo::new(&unnamed);
            for i in 0..25 {
                let task = repo
                    .insert(&new_task(org, &format!("w{w} t{i}")))
                    .await
                    .expect("insert");
                let mut task: Task = repo.get(task.id).await.expect("get");
                task.priority = 1 + (i % 5) as i16;
                repo.update(&task).await.expect("update");
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    assert_eq!(
        repo.count::<Task>().await.expect("count"),
        2 + batched + 8 * 25
    );
    assert!(
        !bouncer.log().contains("does not exist"),
        "no statement went missing:\n{}",
        bouncer.log()
    );
}
