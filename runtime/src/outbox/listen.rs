//! The relay's ear: one session connection `LISTEN`ing on the outbox's
//! channel, waking the relay on each notification, reconnecting when the
//! connection drops (the relay polls meanwhile).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt as _;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls};

use crate::ddl::quote_ident;

/// How long the listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// A running listener; dropping it stops it.
pub(super) struct Listener {
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Listens on `channel` through a connection made from `config`,
    /// waking `wake` for each notification (and once after each
    /// connection, for what was published while it was away) and counting
    /// them in `heard`.
    pub(super) fn start(
        config: Config,
        channel: String,
        wake: Arc<Notify>,
        heard: Arc<AtomicU64>,
    ) -> Listener {
        let task = tokio::spawn(async move {
            loop {
                match listen(&config, &channel, &wake, &heard).await {
                    Ok(()) => tracing::warn!(
                        channel = channel.as_str(),
                        "the outbox listener's connection closed; polling until it is back"
                    ),
                    Err(e) => tracing::warn!(
                        channel = channel.as_str(),
                        error = %crate::Error::from(e),
                        "the outbox listener could not listen; polling until it can"
                    ),
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        });
        Listener { task }
    }
}

/// One connection's life: `LISTEN`, then every notification until the
/// connection ends.
async fn listen(
    config: &Config,
    channel: &str,
    wake: &Notify,
    heard: &AtomicU64,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let statement = format!("LISTEN {}", quote_ident(channel));
    let listening = client.batch_execute(&statement);
    let mut listening = std::pin::pin!(listening);
    // The connection makes progress only while its messages are read.
    loop {
        match select(listening.as_mut(), messages.next()).await {
            Either::Left((done, _)) => {
                done?;
                break;
            }
            Either::Right((Some(Ok(_)), _)) => {}
            Either::Right((Some(Err(e)), _)) => return Err(e),
            Either::Right((None, _)) => return Ok(()),
        }
    }
    // Events may have committed before the LISTEN did.
    wake.notify_one();
    while let Some(message) = messages.next().await {
        if let AsyncMessage::Notification(_) = message? {
            heard.fetch_add(1, Ordering::Relaxed);
            wake.notify_one();
        }
    }
    // `client` lives to here: the session ends with it.
    Ok(())
}
