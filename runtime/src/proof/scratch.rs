//! A database of its own on a server, for a proof or a rehearsal to build
//! and throw away: created, handed over, dropped whatever happened.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::Config;

use crate::error::Result;

/// Runs `work` on a new, empty database on the server `config` points at
/// (its role needs `CREATEDB`), then drops the database (forcing out any
/// connection left to it). `purpose` names it: `ordinance_<purpose>_<pid>_<n>`.
pub(super) async fn in_scratch_database<T>(
    config: &Config,
    purpose: &str,
    work: impl AsyncFnOnce(Config) -> Result<T>,
) -> Result<T> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "ordinance_{purpose}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let quoted = crate::ddl::quote_ident(&name);
    let (admin, connection) = config.connect(tokio_postgres::NoTls).await?;
    let admin_task = tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {quoted}"))
        .await?;
    let mut scratch = config.clone();
    scratch.dbname(&name);
    let outcome = work(scratch).await;
    let dropped = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        .await;
    drop(admin);
    let _ = admin_task.await;
    let value = outcome?;
    dropped?;
    Ok(value)
}

/// A connection to `config`'s database, its task spawned; it ends when the
/// client is dropped.
pub(super) async fn connect(config: &Config) -> Result<tokio_postgres::Client> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
