//! The rows of a statement the cluster ran: they keep their connection
//! borrowed from its pool until read to the end, then finish what the
//! statement began (the `COMMIT` of a scoped statement, the write position
//! for read-your-writes) before the stream ends.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, Stream};
use tokio_postgres::{Row, RowStream};

use super::health::Replica;
use super::track::Tracker;
use crate::error::is_unavailable;
use crate::pool::PooledConnection;

/// What is left to do once a statement's rows are read.
pub(crate) struct Finish {
    pub(crate) conn: PooledConnection,
    /// The statement ran in a transaction the cluster began: commit it.
    pub(crate) commit: bool,
    /// The statement wrote: record the primary's WAL position after it.
    pub(crate) track: Option<Arc<Tracker>>,
    /// The replica it ran on, marked down if it goes away mid-read.
    pub(crate) source: Option<Arc<Replica>>,
}

impl Finish {
    async fn run(mut self) -> Result<(), tokio_postgres::Error> {
        if self.commit {
            self.conn.batch_execute("COMMIT").await?;
            self.conn.set_in_doubt(false);
        }
        if let Some(track) = self.track.take() {
            track.record_after_write(&self.conn).await;
        }
        Ok(())
    }
}

impl Drop for Finish {
    /// Rows dropped before their end, or a failed `COMMIT`: whether and
    /// where the write landed is unknown, so the handle reads from the
    /// primary for the rest of its window.
    fn drop(&mut self) {
        if let Some(track) = self.track.take() {
            track.wrote_unknown();
        }
    }
}

pin_project_lite::pin_project! {
    /// The driver's stream and what to do after it, boxed together once
    /// per statement so [`Rows`] can be moved after it was polled.
    struct Reading {
        #[pin]
        stream: RowStream,
        finish: Option<Finish>,
    }
}

/// The rows of a statement run by a [`Cluster`](super::Cluster), read as
/// they arrive. The connection stays borrowed until the stream ends or is
/// dropped.
pub struct Rows {
    reading: Pin<Box<Reading>>,
    state: State,
    /// The first item, read ahead by [`Rows::peek`].
    peeked: Option<Option<Result<Row, tokio_postgres::Error>>>,
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("rows_affected", &self.rows_affected())
            .finish_non_exhaustive()
    }
}

enum State {
    Reading,
    Finishing(BoxFuture<'static, Result<(), tokio_postgres::Error>>),
    Done,
}

impl Rows {
    pub(crate) fn new(stream: RowStream, finish: Finish) -> Self {
        Rows {
            reading: Box::pin(Reading {
                stream,
                finish: Some(finish),
            }),
            state: State::Reading,
            peeked: None,
        }
    }

    /// The number of rows read so far, as the driver counts them.
    pub fn rows_affected(&self) -> Option<u64> {
        self.reading.stream.rows_affected()
    }

    /// Waits for the first item without taking it: whether the statement
    /// failed before its first row (the server went away mid-statement)
    /// is known before the rows are handed out.
    pub(crate) async fn peek(&mut self) -> Option<&Result<Row, tokio_postgres::Error>> {
        if self.peeked.is_none() {
            let first = futures_util::StreamExt::next(self).await;
            self.peeked = Some(first);
        }
        self.peeked.as_ref().and_then(Option::as_ref)
    }
}

impl Stream for Rows {
    type Item = Result<Row, tokio_postgres::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.peeked.take() {
            return Poll::Ready(first);
        }
        loop {
            match &mut this.state {
                State::Reading => {
                    let reading = this.reading.as_mut().project();
                    match ready!(reading.stream.poll_next(cx)) {
                        Some(Err(e)) => {
                            // A failed statement ends its transaction's
                            // use; the pool rolls a scoped one back. A
                            // replica that went away serves no more reads
                            // until a check finds it back.
                            if is_unavailable(&e) {
                                if let Some(replica) =
                                    reading.finish.as_ref().and_then(|f| f.source.as_ref())
                                {
                                    replica.mark_down();
                                }
                            }
                            this.state = State::Done;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Some(row) => return Poll::Ready(Some(row)),
                        None => match reading.finish.take() {
                            // Nothing to commit or record: the connection
                            // goes home now, with no future to box.
                            Some(finish) if !finish.commit && finish.track.is_none() => {
                                drop(finish);
                                this.state = State::Done;
                            }
                            Some(finish) => this.state = State::Finishing(finish.run().boxed()),
                            None => this.state = State::Done,
                        },
                    }
                }
                State::Finishing(tail) => {
                    let result = ready!(tail.as_mut().poll(cx));
                    this.state = State::Done;
                    if let Err(e) = result {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
