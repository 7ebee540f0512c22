//! Each connection's prepared statements, found by the statement's identity.
//!
//! The kit's own statements (an entity's get, insert, update, …; relation
//! loads) are [`Sql::Fixed`]: `'static` text rendered once per process, so
//! the text's address is its identity, and a lookup hashes one `usize`
//! instead of the whole text. Statements built per call from sea-query
//! (`list`, pages, `fetch`) are [`Sql::Built`]: found by their text and
//! parameter types in a second map of at most [`BUILT_CAPACITY`] entries,
//! the least recently used going first. Fixed statements need no bound: a
//! program has as many as its entities have operations.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use rustc_hash::{FxHashMap, FxHasher};
use tokio_postgres::types::Type;
use tokio_postgres::Statement;

/// The most statements built per call that one connection keeps prepared.
pub const BUILT_CAPACITY: usize = 128;

/// A statement's text, and how a connection's cache recognises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sql<'a> {
    /// Text rendered once per process and never freed: its address is its
    /// identity. It must always run with the same parameter types.
    Fixed(&'static str),
    /// Text built for this call: recognised by its content and types.
    Built(&'a str),
}

impl Sql<'_> {
    /// The statement text.
    pub fn text(&self) -> &str {
        match self {
            Sql::Fixed(text) => text,
            Sql::Built(text) => text,
        }
    }
}

/// The prepared statements of one connection.
#[derive(Default)]
pub struct StatementCache {
    inner: Mutex<Inner>,
    /// Where its connection goes, for the statements' spans: known when
    /// the kit made the connection from its configuration.
    server: std::sync::OnceLock<Server>,
}

/// The database and server a connection talks to: the spans'
/// `db.namespace`, `server.address` and `server.port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) namespace: String,
    pub(crate) address: String,
    pub(crate) port: u16,
}

impl Server {
    /// What `config` connects to: its database, first host and port.
    pub(crate) fn of(config: &tokio_postgres::Config) -> Server {
        use tokio_postgres::config::Host;
        let address = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let user = config.get_user().unwrap_or_default();
        Server {
            namespace: config.get_dbname().unwrap_or(user).to_owned(),
            address,
            port: config.get_ports().first().copied().unwrap_or(5432),
        }
    }

    /// Records itself on `span`.
    pub(crate) fn record(&self, span: &tracing::Span) {
        span.record("db.namespace", self.namespace.as_str());
        span.record("server.address", self.address.as_str());
        span.record("server.port", self.port);
    }
}

impl std::fmt::Debug for StatementCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("StatementCache")
            .field("fixed", &inner.fixed.len())
            .field("built", &inner.built.len())
            .finish()
    }
}

struct Built {
    types: Box<[Type]>,
    statement: Statement,
    used: u64,
}

#[derive(Default)]
struct Inner {
    /// Keyed by the text's address.
    fixed: HashMap<usize, Statement, BuildHasherDefault<FxHasher>>,
    /// Keyed by text; the value carries its parameter types (a text run
    /// with other types replaces it) and its last use.
    built: FxHashMap<Box<str>, Built>,
    /// Counts lookups of built statements, to find the least recent.
    clock: u64,
}

fn address(text: &'static str) -> usize {
    text.as_ptr() as usize
}

impl StatementCache {
    /// Notes where its connection goes.
    pub(crate) fn set_server(&self, server: Server) {
        let _ = self.server.set(server);
    }

    /// Where its connection goes, when known.
    pub(crate) fn server(&self) -> Option<&Server> {
        self.server.get()
    }

    /// An empty cache.
    pub fn new() -> Self {
        StatementCache::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The map stays consistent whatever panicked while it was held.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The statement prepared for `sql` on this connection, if any.
    pub fn get(&self, sql: Sql<'_>, types: &[Type]) -> Option<Statement> {
        let mut inner = self.lock();
        match sql {
            Sql::Fixed(text) => inner.fixed.get(&address(text)).cloned(),
            Sql::Built(text) => {
                inner.clock += 1;
                let now = inner.clock;
                let built = inner.built.get_mut(text).filter(|b| &*b.types == types)?;
                built.used = now;
                Some(built.statement.clone())
            }
        }
    }

    /// Remembers `statement` as the preparation of `sql`.
    pub fn insert(&self, sql: Sql<'_>, types: &[Type], statement: Statement) {
        let mut inner = self.lock();
        match sql {
            Sql::Fixed(text) => {
                inner.fixed.insert(address(text), statement);
            }
            Sql::Built(text) => {
                if inner.built.len() >= BUILT_CAPACITY && !inner.built.contains_key(text) {
                    let oldest = inner
                        .built
                        .iter()
                        .min_by_key(|(_, b)| b.used)
                        .map(|(key, _)| key.clone());
                    if let Some(key) = oldest {
                        // Dropping the statement closes it on the server.
                        inner.built.remove(&key);
                    }
                }
                inner.clock += 1;
                let now = inner.clock;
                let built = Built {
                    types: types.into(),
                    statement,
                    used: now,
                };
                inner.built.insert(text.into(), built);
            }
        }
    }

    /// Forgets the statement of `sql`: the server no longer knows it, or
    /// its plan no longer fits the table.
    pub fn remove(&self, sql: Sql<'_>, types: &[Type]) {
        let mut inner = self.lock();
        match sql {
            Sql::Fixed(text) => {
                inner.fixed.remove(&address(text));
            }
            Sql::Built(text) => {
                if inner.built.get(text).is_some_and(|b| &*b.types == types) {
                    inner.built.remove(text);
                }
            }
        }
    }

    /// How many statements are kept: fixed, then built.
    pub fn len(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.fixed.len(), inner.built.len())
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// Forgets every statement (closing them on the server).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.fixed.clear();
        inner.built.clear();
    }
}

/// The caches of bare `Client`s, found by the client's address: a bare
/// client has no room for one of its own.
///
/// An address can outlive its client: a new client may later sit where a
/// dropped one was, and find the old one's statements. Their names are
/// unique in the process (tokio-postgres numbers them), so the new session
/// can only answer "no such statement" (26000), never run the wrong one;
/// the cache then forgets them and the statement is prepared again and
/// retried. That retry is only possible outside a transaction, so a bare
/// client's cache is used outside transactions only. At most
/// [`BARE_CLIENTS`] clients keep caches, the least recently used going
/// first.
pub(crate) fn for_bare_client(client: &tokio_postgres::Client) -> Arc<StatementCache> {
    static CLIENTS: OnceLock<Mutex<Clients>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Default::default);
    let mut clients = clients.lock().unwrap_or_else(PoisonError::into_inner);
    clients.clock += 1;
    let now = clients.clock;
    let key = std::ptr::from_ref(client) as usize;
    if let Some((cache, used)) = clients.by_address.get_mut(&key) {
        *used = now;
        return cache.clone();
    }
    if clients.by_address.len() >= BARE_CLIENTS {
        let oldest = clients
            .by_address
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(key, _)| *key);
        if let Some(oldest) = oldest {
            clients.by_address.remove(&oldest);
        }
    }
    let cache = Arc::new(StatementCache::new());
    clients.by_address.insert(key, (cache.clone(), now));
    cache
}

/// The most bare clients whose statements are kept.
pub const BARE_CLIENTS: usize = 64;

#[derive(Default)]
struct Clients {
    by_address: HashMap<usize, (Arc<StatementCache>, u64), BuildHasherDefault<FxHasher>>,
    clock: u64,
}
