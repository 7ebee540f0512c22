//! A transactional outbox: events written in the transaction of the change
//! they announce — so an event exists if and only if its change committed
//! — and delivered by [`Relay`]s to an async handler, in order per key.
//!
//! The outbox is an entity of the application's, `#[entity(outbox)]`,
//! with the columns its relay uses (the derive names any missing); it
//! gets its migrations, grants, drift check and documentation like any
//! other table, and its insert trigger notifies the outbox's channel
//! when events commit.
//!
//! ```
//! use ordinance::outbox::Event;
//! use ordinance::prelude::*;
//!
//! /// Events for other services, written with the change that caused them.
//! #[derive(Entity, Debug)]
//! #[entity(outbox)]
//! pub struct OutboxEvent {
//!     pub id: Uuid,
//!     #[column(max_len = 100)]
//!     pub topic: String,
//!     #[column(max_len = 200)]
//!     pub key: String,
//!     pub payload: serde_json::Value,
//!     pub attempts: i32,
//!     pub available_at: DateTime<Utc>,
//!     pub last_error: Option<String>,
//!     pub created_at: DateTime<Utc>,
//!     pub updated_at: DateTime<Utc>,
//! }
//!
//! /// A comment was added to a post.
//! pub struct CommentAdded {
//!     pub post_id: Uuid,
//!     pub comment_id: Uuid,
//! }
//!
//! impl Event for CommentAdded {
//!     type Outbox = OutboxEvent;
//!     const TOPIC: &'static str = "comment_added";
//!     // The post's events are delivered in order.
//!     fn key(&self) -> String {
//!         self.post_id.to_string()
//!     }
//!     fn payload(&self) -> serde_json::Value {
//!         serde_json::json!({ "post_id": self.post_id, "comment_id": self.comment_id })
//!     }
//! }
//!
//! let up = ordinance::ddl::SchemaDdl::new(&[OutboxEvent::SCHEMA]).unwrap().up();
//! assert!(up.contains("PERFORM pg_notify('outbox_events', '')"));
//! ```
//!
//! Write the event with [`Repo::publish`] in the transaction that makes
//! the change, after the change: events of one key are delivered in the
//! order they were written, and two transactions changing the same row
//! are serialised by its lock, so their events are too.
//!
//! Delivery is at least once: a relay deletes an event when its handler
//! returns `Ok`, and an event whose relay died (or whose handler outlived
//! the lease) is delivered again once its lease expires. Handlers should
//! be idempotent — the event's `id` is a ready deduplication key.

mod listen;
mod relay;

use uuid::Uuid;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::exec::{Access, Executor, Sql};
use crate::repo::Repo;
use crate::schema::TableSchema;
use crate::sql::outbox::{OutboxSql, PUBLISH_TYPES};

pub use crate::sql::outbox::channel;
pub use relay::{Handler, Relay, RelayOptions, RelayStats, Round};

/// An event an application publishes through an outbox.
pub trait Event {
    /// The outbox entity (`#[entity(outbox)]`) it is written to.
    type Outbox: Entity;
    /// What kind of event it is: the outbox's `topic` column, which a
    /// handler matches on.
    const TOPIC: &'static str;
    /// What orders it: events of one key are delivered one at a time, in
    /// the order they were published (an aggregate's id, say). Events of
    /// different keys are delivered in parallel by many relays.
    fn key(&self) -> String;
    /// Its content, stored as JSONB (`serde_json::to_value(self)` for a
    /// `Serialize` type).
    fn payload(&self) -> serde_json::Value;
}

/// The outbox's statements, rendered once per outbox entity.
pub(crate) fn statements(schema: &'static TableSchema) -> &'static OutboxSql {
    crate::sql::rendered(schema, |schema| {
        let mut sql = OutboxSql::new(schema);
        for (operation, text) in sql.texts_mut() {
            crate::telemetry::commented(schema, operation, text);
        }
        sql
    })
}

/// Refuses an entity that is not an outbox.
pub(crate) fn require_outbox(schema: &TableSchema) -> Result<()> {
    if schema.outbox {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            setting: "outbox",
            reason: format!(
                "\"{}\" is not an outbox: add #[entity(outbox)] to {}",
                schema.name, schema.struct_name
            ),
        })
    }
}

impl<X: Executor> Repo<'_, X> {
    /// Writes `event` into its outbox and returns the event's id (a
    /// UUIDv7). Call it inside the transaction of the change the event
    /// announces — a [`Transaction`](crate::exec::Transaction) or
    /// [`Cluster::transaction`](crate::cluster::Cluster::transaction) —
    /// after making the change: the event is delivered if and only if the
    /// transaction commits. Its relays are notified at commit.
    ///
    /// A topic or key longer than the outbox's `max_len` is
    /// [`Error::CheckViolation`] and writes nothing.
    pub async fn publish<V: Event>(&self, event: &V) -> Result<Uuid> {
        let schema = <V::Outbox as Entity>::SCHEMA;
        require_outbox(schema)?;
        let sql = statements(schema).publish.as_str();
        let id = Uuid::now_v7();
        let key = event.key();
        let payload = event.payload();
        self.traced(
            schema,
            "publish",
            sql,
            std::pin::pin!(self.executor().query(
                Access::Write,
                Sql::Fixed(sql),
                &[
                    &id as crate::params::SqlParam<'_>,
                    &V::TOPIC,
                    &key,
                    &payload
                ],
                PUBLISH_TYPES,
            )),
        )
        .await
        .map_err(|e| Error::from_db(e, schema))?;
        Ok(id)
    }
}
