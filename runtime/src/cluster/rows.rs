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

use super::track::Tracker;
use crate::pool::PooledConnection;

/// What is left to do once a statement's rows are read.
pub(crate) struct Finish {
    pub(crate) conn: PooledConnection,
    /// The statement ran in a transaction the cluster began: commit it.
    pub(crate) commit: bool,
    /// The statement wrote: record the primary's WAL position after it.
    pub(crate) track: Option<Arc<Tracker>>,
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
    /// The rows of a statement run by a [`Cluster`](super::Cluster), read
    /// as they arrive. The connection stays borrowed until the stream ends
    /// or is dropped.
    pub struct Rows {
        #[pin]
        inner: RowStream,
        state: State,
    }
}

enum State {
    Reading(Option<Box<Finish>>),
    Finishing(BoxFuture<'static, Result<(), tokio_postgres::Error>>),
    Done,
}

impl Rows {
    pub(crate) fn new(inner: RowStream, finish: Finish) -> Self {
        Rows {
            inner,
            state: State::Reading(Some(Box::new(finish))),
        }
    }

    /// The number of rows read so far, as the driver counts them.
    pub fn rows_affected(&self) -> Option<u64> {
        self.inner.rows_affected()
    }
}

impl Stream for Rows {
    type Item = Result<Row, tokio_postgres::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match this.state {
                State::Reading(finish) => match ready!(this.inner.as_mut().poll_next(cx)) {
                    Some(Err(e)) => {
                        // A failed statement ends its transaction's use;
                        // the pool rolls a scoped one back.
                        *this.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Some(row) => return Poll::Ready(Some(row)),
                    None => match finish.take() {
                        Some(finish) => *this.state = State::Finishing(finish.run().boxed()),
                        None => *this.state = State::Done,
                    },
                },
                State::Finishing(tail) => {
                    let result = ready!(tail.as_mut().poll(cx));
                    *this.state = State::Done;
                    if let Err(e) = result {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
