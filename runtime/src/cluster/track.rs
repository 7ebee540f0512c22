//! Read-your-writes: where the primary's WAL stood after a handle's last
//! write, so its reads go to a replica only once that replica has replayed
//! that far (or the configured window has passed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio_postgres::types::PgLsn;
use tokio_postgres::Client;

use super::health::Written;

/// After a write, the primary's WAL insert position: the write's commit
/// record ends at or before it. (Not `pg_current_wal_lsn()`, the position
/// written out so far: with `synchronous_commit = off` a commit can still
/// be past it, and a standby that replayed that far would not have it.)
const POSITION: &str = "SELECT pg_current_wal_insert_lsn()";

/// A handle's last writes.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    last: Mutex<Last>,
    /// Whether `last` holds a write: a handle that has not written (or
    /// whose window passed) answers a read without taking the lock.
    wrote: AtomicBool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Last {
    /// The furthest position read after a write.
    position: Option<PgLsn>,
    /// A write whose position is not known (read from the primary until
    /// the window passes).
    unknown: bool,
    /// When the last write finished.
    at: Option<coarsetime::Instant>,
}

impl Tracker {
    /// What a read must wait for: `None` once `window` has passed since
    /// the last write (or there was none).
    pub(crate) fn pending(&self, window: Duration) -> Option<Written> {
        if !self.wrote.load(Ordering::Acquire) {
            return None;
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let at = last.at?;
        if super::coarse_since(at) >= window {
            *last = Last::default();
            self.wrote.store(false, Ordering::Release);
            return None;
        }
        if last.unknown {
            return Some(Written::Unknown);
        }
        last.position.map(Written::At)
    }

    /// Reads the primary's WAL position on `client`, the connection the
    /// write ran on, after the write committed.
    pub(crate) async fn record_after_write(&self, client: &Client) {
        let position = client
            .query_typed(POSITION, &[])
            .await
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .and_then(|row| row.try_get::<_, PgLsn>(0).ok());
        match position {
            Some(position) => self.wrote_at(position),
            None => self.wrote_unknown(),
        }
    }

    fn wrote_at(&self, position: PgLsn) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.position = Some(last.position.map_or(position, |p| p.max(position)));
        last.at = Some(super::coarse_now());
        self.wrote.store(true, Ordering::Release);
    }

    /// A write happened whose position is not known.
    pub(crate) fn wrote_unknown(&self) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.unknown = true;
        last.at = Some(super::coarse_now());
        self.wrote.store(true, Ordering::Release);
    }
}
