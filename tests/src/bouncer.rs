//! A real PgBouncer in transaction pooling mode, in front of a test
//! database (PgBouncer comes from the system: `apt-get install pgbouncer`).
//! Without it the tests using it say so on stderr and pass; with
//! `ORDINANCE_REQUIRE_PGBOUNCER` set (as `.ci/run` does) a missing PgBouncer
//! fails them.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ordinance::testing::TestDatabase;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// Where PgBouncer is, if installed.
pub fn pgbouncer_binary() -> Option<PathBuf> {
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
pub struct Bouncer {
    child: Child,
    dir: PathBuf,
}

/// The port in PgBouncer's socket name.
pub const PORT: u16 = 6432;

impl Bouncer {
    /// Starts PgBouncer with `pool_size` server connections per database, or
    /// returns `None` when it is not installed and not required.
    pub fn start(db: &TestDatabase, pool_size: u32) -> Option<Bouncer> {
        Bouncer::start_with(db, pool_size, None)
    }

    /// Like [`start`](Self::start), but each client logs in to the server
    /// as itself (one of `users`) instead of as the database's owner: for
    /// tests of roles.
    pub fn start_for(db: &TestDatabase, pool_size: u32, users: &[&str]) -> Option<Bouncer> {
        Bouncer::start_with(db, pool_size, Some(users))
    }

    fn start_with(db: &TestDatabase, pool_size: u32, users: Option<&[&str]>) -> Option<Bouncer> {
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
             * = host={host} port={port}{forced}\n\
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
            dir = dir.display(),
            forced = if users.is_some() {
                String::new()
            } else {
                format!(" user={user}")
            },
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini).expect("ini");
        let mut logins = vec![user.as_str()];
        logins.extend(users.unwrap_or_default());
        let users_txt: String = logins.iter().map(|u| format!("\"{u}\" \"\"\n")).collect();
        std::fs::write(dir.join("users.txt"), users_txt).expect("users");
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
    pub async fn connect(&self, db: &TestDatabase) -> Client {
        self.connect_as(db, db.config().get_user().expect("user"))
            .await
    }

    /// Settings for `db` through PgBouncer, as `user`.
    pub fn config_as(&self, db: &TestDatabase, user: &str) -> Config {
        let mut config = Config::new();
        config
            .host_path(&self.dir)
            .port(PORT)
            .user(user)
            .dbname(db.name());
        config
    }

    /// A client of `db` through PgBouncer, as `user`.
    pub async fn connect_as(&self, db: &TestDatabase, user: &str) -> Client {
        let config = self.config_as(db, user);
        let (client, connection) = config.connect(NoTls).await.expect("connect via pgbouncer");
        tokio::spawn(connection);
        client
    }

    /// PgBouncer's log.
    pub fn log(&self) -> String {
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
pub fn postgres_ids() -> Option<(u32, u32)> {
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
