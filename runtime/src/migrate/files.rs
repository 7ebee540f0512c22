//! Migration files: read from a folder (or given), named, checked, in
//! version order.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::Digest as _;

use crate::error::{Error, Result};

use super::{split, BACKFILL, CONTRACT, FILL_IN, NO_TRANSACTION};

/// One migration, read from its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The timestamp version, e.g. `20261122014500`.
    pub version: i64,
    /// The name part of the file name.
    pub name: String,
    /// The `.up.sql` text.
    pub up: String,
    /// The `.down.sql` text, if there is one.
    pub down: Option<String>,
    /// Whether it runs in a transaction (no `-- ordinance:no-transaction`).
    pub transactional: bool,
    /// Whether it belongs to the contract phase (`-- ordinance:contract`).
    pub contract: bool,
    /// Whether it is a backfill (`-- ordinance:backfill`): every statement
    /// that takes a `$1` is run again and again, each run its own
    /// transaction, with `$1` the last id the previous run reported, until
    /// it reports none. Such a statement returns one row: the last id of
    /// its batch (NULL when no row was left) and the rows it changed.
    pub backfill: bool,
    /// Whether the file still holds a [`FILL_IN`] mark.
    pub needs_filling: bool,
    /// SHA-256 of the up file, hex.
    pub checksum: String,
}

impl Migration {
    /// The up file's statements, in order.
    pub fn statements(&self) -> Vec<&str> {
        split::statements(&self.up)
    }

    /// The reason a `-- ordinance:allow-lock <reason>` line at the top of
    /// the file gives for holding a lock long or rewriting a table: what a
    /// rehearsal then accepts.
    pub fn lock_waiver(&self) -> Option<&str> {
        self.up
            .lines()
            .map(str::trim)
            .take_while(|l| l.starts_with("-- ordinance:"))
            .find_map(|l| l.strip_prefix(super::ALLOW_LOCK))
            .map(str::trim)
            .filter(|reason| !reason.is_empty())
    }

    /// Statement `index` (from 0) of this migration failed.
    pub(super) fn failed(
        &self,
        index: usize,
        statement: &str,
        source: tokio_postgres::Error,
    ) -> Error {
        Error::MigrationFailed {
            version: self.version,
            name: self.name.clone(),
            statement: index + 1,
            sql: statement.to_owned(),
            source: Box::new(Error::from(source)),
        }
    }
}

/// Reports what a runner does, a line at a time (a migration applied, a
/// backfill's progress).
pub type Progress = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// Every migration in a folder, in version order.
#[derive(Clone, Default)]
pub struct Migrations {
    pub(super) dir: PathBuf,
    pub(super) list: Vec<Migration>,
    /// The text of the statement catalog beside the migrations
    /// ([`CATALOG_FILE`](super::CATALOG_FILE)), when there is one.
    pub(super) catalog: Option<String>,
    pub(super) progress: Option<Progress>,
    pub(super) backfill_pause: Option<Duration>,
    /// How a migration that timed out waiting for a lock is tried again.
    pub(super) lock_retries: LockRetries,
    /// Where a rehearsal collects what each statement did.
    pub(crate) observer: Option<super::run::Observer>,
}

/// How many times a migration that gave up waiting for a lock
/// (`lock_timeout`, SQLSTATE 55P03) is run again, and how long the runner
/// waits before the first retry (doubling each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRetries {
    /// Runs in all, the first included; 1 never retries.
    pub attempts: u32,
    /// The wait before the first retry.
    pub first_wait: Duration,
}

impl Default for LockRetries {
    /// Five runs, waiting 1, 2, 4 and 8 seconds between them.
    fn default() -> Self {
        LockRetries {
            attempts: 5,
            first_wait: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrations")
            .field("dir", &self.dir)
            .field("list", &self.list)
            .field("reports_progress", &self.progress.is_some())
            .finish()
    }
}

impl PartialEq for Migrations {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir && self.list == other.list
    }
}

fn file_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::MigrationFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// `(version, name, is_up)` of a migration file name, or `None` for files
/// that are not migrations.
fn parse_file_name(file: &str) -> Option<(i64, &str, bool)> {
    let (stem, up) = if let Some(stem) = file.strip_suffix(".up.sql") {
        (stem, true)
    } else {
        (file.strip_suffix(".down.sql")?, false)
    };
    let (version, name) = stem.split_once('_')?;
    if version.len() != 14 || !version.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((version.parse().ok()?, name, up))
}

impl Migrations {
    /// Reads the folder. A missing folder holds no migrations; a `.sql` file
    /// with a malformed name, a down without an up, or two migrations with
    /// one version are [`Error::MigrationFile`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Migrations> {
        let dir = dir.as_ref();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Migrations::parse(dir, Vec::new())
            }
            Err(source) => {
                return Err(Error::Io {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        };
        let mut files = Vec::new();
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let catalog = path.file_name().is_some_and(|f| f == super::CATALOG_FILE);
            if catalog || path.extension().is_some_and(|x| x == "sql") {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
                files.push((file.to_owned(), text));
            }
        }
        Migrations::parse(dir, files)
    }

    /// Migrations from `(file name, contents)` pairs, checked as [`load`](Self::load)
    /// checks a folder: what [`embed_migrations!`](crate::embed_migrations)
    /// builds into the binary, so a service needs no files at run time.
    pub fn from_sources(files: &[(&str, &str)]) -> Result<Migrations> {
        Migrations::parse(
            Path::new(""),
            files
                .iter()
                .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
                .collect(),
        )
    }

    fn parse(dir: &Path, mut files: Vec<(String, String)>) -> Result<Migrations> {
        files.sort();
        let mut list: Vec<Migration> = Vec::new();
        let mut downs = Vec::new();
        let mut catalog = None;
        for (file, text) in files {
            if file == super::CATALOG_FILE {
                catalog = Some(text);
                continue;
            }
            let path = dir.join(&file);
            let Some((version, name, up)) = parse_file_name(&file) else {
                return Err(file_error(
                    &path,
                    "expected <YYYYMMDDHHMMSS>_<name>.up.sql or .down.sql",
                ));
            };
            if !up {
                downs.push((version, name.to_owned(), path, text));
                continue;
            }
            if list.iter().any(|m| m.version == version) {
                return Err(file_error(
                    &path,
                    format!("a second migration with version {version}"),
                ));
            }
            let marks = directives(&text);
            list.push(Migration {
                version,
                name: name.to_owned(),
                transactional: !marks.contains(&NO_TRANSACTION),
                contract: marks.contains(&CONTRACT),
                backfill: marks.contains(&BACKFILL),
                needs_filling: text.contains(FILL_IN),
                checksum: hex(&sha2::Sha256::digest(text.as_bytes())),
                up: text,
                down: None,
            });
        }
        for (version, name, path, text) in downs {
            match list
                .iter_mut()
                .find(|m| m.version == version && m.name == name)
            {
                Some(m) => m.down = Some(text),
                None => return Err(file_error(&path, "a down migration without its up file")),
            }
        }
        list.sort_by_key(|m| m.version);
        Ok(Migrations {
            dir: dir.to_path_buf(),
            list,
            catalog,
            progress: None,
            backfill_pause: None,
            lock_retries: LockRetries::default(),
            observer: None,
        })
    }

    /// The text of the statement catalog blessed beside the migrations
    /// ([`CATALOG_FILE`](super::CATALOG_FILE), read by
    /// [`load`](Self::load) and built in by
    /// [`embed_migrations!`](crate::embed_migrations)), if there is one:
    /// this release's statements, for proving the next deploy.
    pub fn statement_catalog(&self) -> Option<&str> {
        self.catalog.as_deref()
    }

    /// Reports each migration applied, and each backfill batch, to `report`
    /// (the CLI prints them).
    pub fn on_progress(mut self, report: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.progress = Some(std::sync::Arc::new(report));
        self
    }

    /// How long backfills pause between batches ([`BACKFILL_PAUSE`](super::BACKFILL_PAUSE) unless
    /// set).
    pub fn backfill_pause(mut self, pause: Duration) -> Self {
        self.backfill_pause = Some(pause);
        self
    }

    /// How migrations that time out waiting for a lock are retried
    /// ([`LockRetries::default`] unless set).
    pub fn lock_retries(mut self, retries: LockRetries) -> Self {
        self.lock_retries = retries;
        self
    }

    pub(super) fn report(&self, line: &str) {
        tracing::info!(target: "ordinance::migrate", "{line}");
        if let Some(report) = &self.progress {
            report(line);
        }
    }

    /// The folder they came from (empty for embedded migrations).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every migration, oldest first.
    pub fn list(&self) -> &[Migration] {
        &self.list
    }
}

/// The `-- ordinance:...` lines a migration file starts with.
pub(super) fn directives(text: &str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("-- ordinance:"))
        .filter_map(|l| {
            [NO_TRANSACTION, CONTRACT, BACKFILL]
                .into_iter()
                .find(|d| *d == l)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::parse_file_name;

    #[test]
    fn file_names_carry_version_and_name() {
        assert_eq!(
            parse_file_name("20261122014500_create_users.up.sql"),
            Some((20261122014500, "create_users", true))
        );
        assert_eq!(
            parse_file_name("20261122014500_create_users.down.sql"),
            Some((20261122014500, "create_users", false))
        );
        assert_eq!(parse_file_name("2026_x.up.sql"), None);
        assert_eq!(parse_file_name("20261122014500_.up.sql"), None);
        assert_eq!(parse_file_name("20261122014500_x.sql"), None);
    }
}
