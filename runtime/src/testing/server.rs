//! The server tests talk to: the one in `DATABASE_URL`, or a throwaway
//! one started from the machine's PostgreSQL binaries, watched so it stops
//! when the process exits.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_postgres::Config;

use crate::error::{Error, Result};
use crate::exec::Connection;

/// The server tests talk to: the one in `DATABASE_URL`, or a throwaway one.
#[derive(Debug)]
pub struct TestServer {
    config: Config,
    /// `Some` for the throwaway server this process started.
    embedded: Option<Embedded>,
}

/// The certificate a TLS test server presents.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// PEM certificate chain, server certificate first.
    pub certificate_pem: String,
    /// PEM private key of the server certificate.
    pub private_key_pem: String,
}

#[derive(Debug)]
struct Embedded {
    /// The port in the socket's name (and on TCP, with TLS).
    port: u16,
    dir: PathBuf,
    data: PathBuf,
    /// How to start the server again: the program and its arguments.
    launch: Launch,
    /// Held until the process exits; closing it tells the watchdog to clean
    /// up. Each server start writes its pid here.
    watchdog: Mutex<ChildStdin>,
    /// The running server, `None` while stopped.
    server: Mutex<Option<Child>>,
}

/// Everything needed to start the server process again.
#[derive(Debug)]
struct Launch {
    program: PathBuf,
    args: Vec<std::ffi::OsString>,
    dir: PathBuf,
    log: PathBuf,
    run_as: Option<(u32, u32)>,
}

impl Launch {
    fn spawn(&self) -> Result<Child> {
        let log_file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .map_err(io_at(&self.log))?;
        let log_err = log_file.try_clone().map_err(io_at(&self.log))?;
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .stdin(Stdio::null())
            .args(&self.args)
            .stdout(log_file)
            .stderr(log_err)
            // Its own process group: a Ctrl-C at the terminal reaches the
            // test process, whose exit then stops the server cleanly.
            .process_group(0);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd.spawn().map_err(setup_failed("starting postgres"))
    }
}

/// Whether `pg_stat_statements` is installed beside the server binary
/// (`<prefix>/bin/postgres` and `<prefix>/lib`, as Debian and source builds
/// lay them out; a symbolic link to the binary is followed).
fn has_pg_stat_statements(bindir: &Path) -> bool {
    let postgres = bindir.join("postgres");
    let postgres = std::fs::canonicalize(&postgres).unwrap_or(postgres);
    postgres
        .parent()
        .and_then(Path::parent)
        .is_some_and(|prefix| prefix.join("lib/pg_stat_statements.so").exists())
}

static SERVER: OnceLock<std::result::Result<TestServer, String>> = OnceLock::new();

impl TestServer {
    /// The process-wide server, started on first use.
    pub fn global() -> Result<&'static TestServer> {
        SERVER
            .get_or_init(|| TestServer::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|detail| Error::ServerSetup {
                step: "start",
                detail: detail.clone(),
            })
    }

    fn start() -> Result<TestServer> {
        // Set but empty (`DATABASE_URL= cargo run ...`) means unset.
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            let config = url
                .parse::<Config>()
                .map_err(setup_failed("parsing DATABASE_URL"))?;
            return Ok(TestServer {
                config,
                embedded: None,
            });
        }
        Embedded::start(Origin::Initdb(None))
    }

    /// Starts a throwaway server of its own, whatever `DATABASE_URL` says, on
    /// a Unix socket: for tests that stop and start a server
    /// ([`shut_down`](Self::shut_down), [`start_again`](Self::start_again))
    /// without disturbing the shared one. It is removed when the value is
    /// dropped, or when the process exits.
    pub fn start_dedicated() -> Result<TestServer> {
        Embedded::start(Origin::Initdb(None))
    }

    /// Stops a throwaway server of this process with a fast shutdown
    /// (sessions are ended, committed work is kept), and waits for it to
    /// exit. Connections then fail until [`start_again`](Self::start_again).
    pub fn shut_down(&self) -> Result<()> {
        let embedded = self.embedded_only("shut_down")?;
        let child = embedded
            .server
            .lock()
            .map_err(|_| setup_failed("shut_down")("a lock was poisoned"))?
            .take();
        let Some(mut child) = child else {
            return Ok(());
        };
        // SIGINT asks the postmaster for a fast shutdown.
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .map_err(setup_failed("signalling postgres"))?;
        if !status.success() {
            return Err(setup_failed("signalling postgres")(status));
        }
        child
            .wait()
            .map_err(setup_failed("waiting for postgres to stop"))?;
        Ok(())
    }

    /// Starts a throwaway server stopped with [`shut_down`](Self::shut_down)
    /// again, on the same data and address, and waits until it accepts
    /// connections.
    pub fn start_again(&self) -> Result<()> {
        let embedded = self.embedded_only("start_again")?;
        let mut slot = embedded
            .server
            .lock()
            .map_err(|_| setup_failed("start_again")("a lock was poisoned"))?;
        if slot.is_some() {
            return Ok(());
        }
        let mut child = embedded.launch.spawn()?;
        if let Ok(mut watchdog) = embedded.watchdog.lock() {
            let _ = writeln!(watchdog, "{}", child.id());
        }
        wait_until_ready(&embedded.data, &mut child, &embedded.launch.log)?;
        *slot = Some(child);
        Ok(())
    }

    fn embedded_only(&self, step: &'static str) -> Result<&Embedded> {
        self.embedded.as_ref().ok_or_else(|| Error::ServerSetup {
            step,
            detail: "only a throwaway server started by this process can be stopped and started"
                .to_owned(),
        })
    }

    /// Starts a throwaway server of its own (whatever `DATABASE_URL` says)
    /// that also accepts TLS connections on `localhost` over TCP, with the
    /// given PEM certificate chain and private key. The returned settings
    /// point at that TCP address; the server stops when the value is dropped.
    pub fn start_with_tls(tls: &ServerTls) -> Result<TestServer> {
        Embedded::start(Origin::Initdb(Some(tls)))
    }

    /// Starts a hot standby of this throwaway server: a base backup taken
    /// with `pg_basebackup -R` (the installed binaries), then a server of
    /// its own on that copy, replaying the primary's WAL as it streams in.
    /// Reads work on it; writes fail as on any standby. Stop and start it
    /// with [`shut_down`](Self::shut_down) and
    /// [`start_again`](Self::start_again); pause its replay with
    /// `SELECT pg_wal_replay_pause()` on it. It is removed when dropped, or
    /// when the process exits.
    ///
    /// Only a server this process started has a standby: use
    /// [`start_dedicated`](Self::start_dedicated) for the primary, so a
    /// `DATABASE_URL` does not stand in its way.
    pub fn start_standby(&self) -> Result<TestServer> {
        let primary = self.embedded_only("start_standby")?;
        Embedded::start(Origin::Standby(primary))
    }

    /// Connection settings for the server's `postgres` database.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether this is the throwaway server started by this process.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The directory holding the throwaway server's data and socket, if any.
    pub fn directory(&self) -> Option<&Path> {
        self.embedded.as_ref().map(|e| e.dir.as_path())
    }

    /// Settings for another database on this server.
    pub fn config_for(&self, dbname: &str) -> Config {
        let mut config = self.config.clone();
        config.dbname(dbname);
        config
    }

    /// A connection to the maintenance database, for creating databases.
    pub(super) async fn admin(&self) -> Result<Connection> {
        let mut config = self.config.clone();
        if config.get_dbname().is_none() {
            config.dbname("postgres");
        }
        connect(&config).await
    }
}

/// Opens a connection (with its statement cache) and drives it on the
/// current tokio runtime.
pub async fn connect(config: &Config) -> Result<Connection> {
    Ok(Connection::connect(config).await?)
}

/// Where a throwaway server's data comes from.
enum Origin<'a> {
    /// A new cluster from `initdb`, optionally accepting TLS.
    Initdb(Option<&'a ServerTls>),
    /// A base backup of a running throwaway server, kept up to date by
    /// streaming replication (a hot standby).
    Standby(&'a Embedded),
}

impl Embedded {
    fn start(origin: Origin<'_>) -> Result<TestServer> {
        let tls = match origin {
            Origin::Initdb(tls) => tls,
            Origin::Standby(_) => None,
        };
        let bindir = find_bindir(
            std::env::var_os("PATH"),
            Some(Path::new("pg_config")),
            Path::new("/usr/lib/postgresql"),
        )
        .ok_or(Error::NoServerBinaries)?;
        let run_as = if is_root() {
            Some(postgres_user()?)
        } else {
            None
        };
        // As root the server runs as `postgres`, which must be able to reach
        // the directory: `/tmp` is traversable by all, a private TMPDIR may not be.
        let base = if run_as.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "ordinance-pg-{}-{}",
            std::process::id(),
            unique_suffix()
        ));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        // The watchdog starts first, so even a failed start leaves nothing behind.
        let mut watchdog = spawn_watchdog(&dir)?;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(io_at(&dir))?;
        }
        let command = |program: &str| {
            let mut cmd = Command::new(server_tool(&bindir, program));
            cmd.current_dir(&dir)
                .env("LC_ALL", "C")
                .env_remove("PGDATA")
                .stdin(Stdio::null());
            if let Some((uid, gid)) = run_as {
                cmd.uid(uid).gid(gid);
            }
            cmd
        };
        let out = match origin {
            Origin::Initdb(_) => command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ])
                .output()
                .map_err(setup_failed("running initdb"))?,
            Origin::Standby(primary) => command("pg_basebackup")
                .arg("-D")
                .arg(&data)
                .arg("-h")
                .arg(&primary.dir)
                .args(["-p", &primary.port.to_string(), "-U", "postgres"])
                // -R writes standby.signal and primary_conninfo; WAL is
                // streamed during the copy, and the checkpoint is taken now.
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"])
                .output()
                .map_err(setup_failed("running pg_basebackup"))?,
        };
        if !out.status.success() {
            return Err(Error::ServerSetup {
                step: match origin {
                    Origin::Initdb(_) => "initdb",
                    Origin::Standby(_) => "pg_basebackup",
                },
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let log = dir.join("server.log");
        std::fs::File::create(&log).map_err(io_at(&log))?;
        if let Some((uid, gid)) = run_as {
            let _ = std::os::unix::fs::chown(&log, Some(uid), Some(gid));
        }
        let mut port = 5432;
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        if let Some(tls) = tls {
            port = free_tcp_port()?;
            let owned = |name: &str, text: &str| -> Result<PathBuf> {
                let path = dir.join(name);
                std::fs::write(&path, text).map_err(io_at(&path))?;
                // PostgreSQL refuses a key others can read.
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io_at(&path))?;
                if let Some((uid, gid)) = run_as {
                    std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(io_at(&path))?;
                }
                Ok(path)
            };
            let cert = owned("server.crt", &tls.certificate_pem)?;
            let key = owned("server.key", &tls.private_key_pem)?;
            for setting in [
                "ssl=on".to_owned(),
                format!("ssl_cert_file={}", cert.display()),
                format!("ssl_key_file={}", key.display()),
            ] {
                args.push("-c".into());
                args.push(setting.into());
            }
        }
        args.extend(["-D".into(), data.clone().into_os_string()]);
        args.extend(["-k".into(), dir.clone().into_os_string()]);
        let listen = if tls.is_some() {
            "listen_addresses=127.0.0.1"
        } else {
            "listen_addresses="
        };
        for arg in [
            "-c",
            listen,
            "-p",
            &port.to_string(),
            "-F",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ] {
            args.push(arg.into());
        }
        // Statement statistics for `stats::statement_stats`, when the
        // library is installed (Debian: `postgresql-contrib`).
        if has_pg_stat_statements(&bindir) {
            args.push("-c".into());
            args.push("shared_preload_libraries=pg_stat_statements".into());
        }
        let launch = Launch {
            program: bindir.join("postgres"),
            args,
            dir: dir.clone(),
            log: log.clone(),
            run_as,
        };
        let mut server = launch.spawn()?;
        let _ = writeln!(watchdog, "{}", server.id());
        wait_until_ready(&data, &mut server, &log)?;

        let mut config = Config::new();
        if tls.is_some() {
            config
                .host("localhost")
                .ssl_mode(tokio_postgres::config::SslMode::Require);
        } else {
            config.host_path(&dir);
        }
        config.port(port).user("postgres").dbname("postgres");
        Ok(TestServer {
            config,
            embedded: Some(Embedded {
                port,
                dir,
                data,
                launch,
                watchdog: Mutex::new(watchdog),
                server: Mutex::new(Some(server)),
            }),
        })
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
fn free_tcp_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(setup_failed("finding a free TCP port"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(setup_failed("finding a free TCP port"))
}

/// Maps an I/O error to [`Error::Io`] naming the path it concerns.
fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Maps a failure to [`Error::ServerSetup`] naming the step that failed.
fn setup_failed<E: std::fmt::Display>(step: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::ServerSetup {
        step,
        detail: e.to_string(),
    }
}

/// A shell that reads the server's pid (a line per start), waits for
/// end-of-file on its stdin (this process exiting, for any reason), stops the
/// server and removes the directory.
fn spawn_watchdog(dir: &Path) -> Result<ChildStdin> {
    // Each start of the server writes its pid; the last one is running.
    const SCRIPT: &str = r#"
        pid=
        while read -r line; do pid=$line; done
        if [ -n "$pid" ]; then
            # Immediate shutdown: the data is thrown away, so no checkpoint.
            kill -QUIT "$pid" 2>/dev/null
            i=0
            while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
            kill -KILL "$pid" 2>/dev/null
        fi
        rm -rf "$1"
    "#;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("ordinance-pg-watchdog")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(setup_failed("starting the clean-up watchdog"))?;
    child.stdin.take().ok_or_else(|| Error::ServerSetup {
        step: "starting the clean-up watchdog",
        detail: "no stdin pipe".to_owned(),
    })
}

/// Waits for `postmaster.pid` to report `ready` (PostgreSQL 10 and later).
fn wait_until_ready(data: &Path, server: &mut Child, log: &Path) -> Result<()> {
    let pid_file = data.join("postmaster.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            // A hot standby reports `standby` once it accepts connections.
            let status = text.lines().nth(7).map(str::trim);
            if matches!(status, Some("ready" | "standby")) {
                return Ok(());
            }
        }
        if let Ok(Some(status)) = server.try_wait() {
            return Err(Error::ServerSetup {
                step: "postgres",
                detail: format!(
                    "exited with {status}: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ),
            });
        }
        if Instant::now() > deadline {
            return Err(Error::ServerSetup {
                step: "waiting for postgres",
                detail: format!(
                    "not ready after 60 s: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The directory holding `initdb` and `postgres`: the first on `path`, else
/// the one `pg_config --bindir` names, else the newest version under `lib_root`
/// (Debian keeps server binaries off `PATH`, in `/usr/lib/postgresql/N/bin`).
fn find_bindir(
    path: Option<std::ffi::OsString>,
    pg_config: Option<&Path>,
    lib_root: &Path,
) -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(path) = path {
        if let Some(d) = std::env::split_paths(&path).find(|d| has_both(d)) {
            return Some(d);
        }
    }
    if let Some(Ok(out)) = pg_config.map(|p| Command::new(p).arg("--bindir").output()) {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_both(&d) {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(lib_root)
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, d)| has_both(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// A program of the server's installation: next to `initdb`, or next to
/// what `initdb` links to (a `PATH` entry may link only the server
/// programs), or else found on `PATH`.
fn server_tool(bindir: &Path, program: &str) -> PathBuf {
    let beside = bindir.join(program);
    if beside.is_file() {
        return beside;
    }
    std::fs::canonicalize(bindir.join("initdb"))
        .ok()
        .and_then(|initdb| Some(initdb.parent()?.join(program)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(program))
}

fn id_of(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn is_root() -> bool {
    id_of(&["-u"]) == Some(0)
}

fn postgres_user() -> Result<(u32, u32)> {
    match (id_of(&["-u", "postgres"]), id_of(&["-g", "postgres"])) {
        (Some(uid), Some(gid)) => Ok((uid, gid)),
        _ => Err(Error::ServerSetup {
            step: "finding the `postgres` system user",
            detail: "running as root, so the server must run as another user, and there is no \
                     `postgres` user; create one (`useradd --system postgres`) or set DATABASE_URL"
                .to_owned(),
        }),
    }
}

fn unique_suffix() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bindir(root: &Path) -> PathBuf {
        std::fs::create_dir_all(root).expect("mkdir");
        for bin in ["initdb", "postgres"] {
            std::fs::write(root.join(bin), "").expect("touch");
        }
        root.to_path_buf()
    }

    #[test]
    fn finds_binaries_on_path_then_under_the_library_root() {
        let tmp = std::env::temp_dir().join(format!("ordinance-find-{}", unique_suffix()));
        let on_path = fake_bindir(&tmp.join("path-bin"));
        let lib = tmp.join("lib");
        fake_bindir(&lib.join("13/bin"));
        let newest = fake_bindir(&lib.join("16/bin"));
        fake_bindir(&lib.join("9/bin"));

        let path = std::env::join_paths([tmp.join("nothing"), on_path.clone()]).ok();
        assert_eq!(find_bindir(path, None, &lib), Some(on_path));
        // Not on PATH: the newest version under the library root wins.
        assert_eq!(find_bindir(None, None, &lib), Some(newest));
        // Nothing anywhere: `None`, which the caller turns into `NoServerBinaries`.
        assert_eq!(find_bindir(None, None, &tmp.join("missing")), None);
        std::fs::remove_dir_all(&tmp).expect("clean up");
    }

    #[test]
    fn the_missing_binaries_error_says_what_to_do() {
        let text = Error::NoServerBinaries.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("DATABASE_URL"), "{text}");
    }
}
