//! A connection that keeps its prepared statements.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Socket};

use super::cache::StatementCache;

/// A `tokio_postgres::Client` with a cache of the statements it prepared, so
/// each of the kit's statements is prepared once per connection and every
/// later call is a single round trip. What [`connect`](Connection::connect),
/// the [`Pool`](crate::pool::Pool) and the test harness hand out; wrap a
/// client you connected yourself with [`Connection::from`].
///
/// It dereferences to the `Client`, so everything tokio-postgres offers is
/// still there; `Repo::new(&conn)` uses the cache, and
/// [`transaction`](super::transaction) hands the closure a
/// [`Transaction`](super::Transaction) that shares it.
///
/// A bare `&Client` works too, but has no place to keep statements: the
/// kit then runs each statement unnamed (one round trip, planned every
/// time), like [`Unnamed`](super::Unnamed).
pub struct Connection {
    client: Client,
    /// Boxed: a pooled connection is moved whole on every checkout and
    /// return, and the cache (maps, a lock, the server's names) would
    /// double what is moved.
    cache: Box<StatementCache>,
    /// Set while a transaction the kit opened with `BEGIN` on this
    /// connection may still be open (its work was dropped half-way): the
    /// pool rolls it back before lending the connection again.
    in_doubt: AtomicBool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.client.is_closed())
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects without TLS and drives the connection on a tokio task, which
    /// ends (after telling the server) when the connection is dropped.
    pub async fn connect(config: &Config) -> Result<Connection, tokio_postgres::Error> {
        Connection::connect_with_tls(config, NoTls).await
    }

    /// Connects with a TLS connector (see [`Pool::connect_with_tls`](crate::pool::Pool::connect_with_tls))
    /// and drives the connection on a tokio task.
    pub async fn connect_with_tls<T>(
        config: &Config,
        tls: T,
    ) -> Result<Connection, tokio_postgres::Error>
    where
        T: MakeTlsConnect<Socket> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let (client, connection) = config.connect(tls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Connection errors carry no bound values.
                tracing::warn!(error = %e, "ordinance: connection closed with an error");
            }
        });
        let conn = Connection::from(client);
        conn.cache.set_server(super::cache::Server::of(config));
        Ok(conn)
    }

    /// The statements this connection keeps prepared.
    pub fn statement_cache(&self) -> &StatementCache {
        &self.cache
    }

    /// Marks the connection as inside a transaction the kit began by hand
    /// (`true`), or out of it again (`false`).
    pub(crate) fn set_in_doubt(&self, open: bool) {
        self.in_doubt.store(open, Ordering::Release);
    }

    /// Whether a transaction the kit began may still be open; clears the mark.
    pub(crate) fn take_in_doubt(&self) -> bool {
        self.in_doubt.swap(false, Ordering::AcqRel)
    }

    /// The client and its cache, borrowed apart (a transaction borrows the
    /// client mutably and the cache shared).
    pub(crate) fn parts(&mut self) -> (&mut Client, &StatementCache) {
        (&mut self.client, &self.cache)
    }
}

impl From<Client> for Connection {
    /// Adds a statement cache to a client whose connection the caller
    /// already drives.
    fn from(client: Client) -> Self {
        Connection {
            client,
            cache: Box::new(StatementCache::new()),
            in_doubt: AtomicBool::new(false),
        }
    }
}

impl Deref for Connection {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}
