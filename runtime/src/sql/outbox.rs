//! A transactional outbox's SQL (`#[entity(outbox)]`): the trigger that
//! notifies the outbox's channel when events are committed, and the
//! statements that publish, claim, finish, retry and release events.
//!
//! Events of one `key` are delivered in the order of `(created_at, id)`,
//! `created_at` taken from the server's clock when the event is written
//! (`clock_timestamp()`, not the transaction's start), so one clock orders
//! every writer's events. A relay claims only the oldest event of each
//! key, and an event stays in the table until delivered, so the next one
//! of its key waits for it — across relays, retries and crashes.

use tokio_postgres::types::Type;

use crate::ddl::{qualified, quote_ident, quote_literal, table_ident};
use crate::schema::TableSchema;

/// Why an outbox has no `deleted_at` (the table's waiver, shown in its
/// comment and read by the audit).
pub const OUTBOX_NO_SOFT_DELETE: &str = "an outbox: delivered events are deleted";

/// Why an outbox has no `version`.
pub const OUTBOX_NO_VERSION: &str = "an outbox: the relay counts its claims in attempts";

/// The channel an insert into the outbox notifies, and its relays listen
/// on: the table's name, with its schema when not `public`
/// (`outbox_events`, `billing.outbox_events`).
pub fn channel(schema: &TableSchema) -> String {
    match schema.schema {
        Some(ns) if ns != "public" => format!("{ns}.{}", schema.name),
        _ => schema.name.to_owned(),
    }
}

/// The trigger's and its function's name: `{table}_notify`.
fn notify_name(schema: &TableSchema) -> String {
    format!("{}_notify", schema.name)
}

fn function_ident(schema: &TableSchema) -> String {
    qualified(schema.schema, &notify_name(schema))
}

/// The function notifying the outbox's channel, and the trigger calling
/// it once per inserting statement. PostgreSQL sends a notification when
/// the transaction commits (never for one rolled back), once per channel
/// and payload however many events the transaction wrote. Empty for a
/// table that is not an outbox.
pub(crate) fn create_outbox(schema: &TableSchema) -> Vec<String> {
    if !schema.outbox {
        return Vec::new();
    }
    vec![
        format!(
            "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql \
             SET search_path = pg_catalog, pg_temp AS $outbox$\n\
             BEGIN\n    \
             PERFORM pg_notify({channel}, '');\n    \
             RETURN NULL;\n\
             END\n$outbox$",
            f = function_ident(schema),
            channel = quote_literal(&channel(schema)),
        ),
        format!(
            "CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()",
            quote_ident(&notify_name(schema)),
            table_ident(schema),
            function_ident(schema)
        ),
    ]
}

/// Drops the function [`create_outbox`] made, once the table (and its
/// trigger) is gone.
pub(crate) fn drop_outbox(schema: &TableSchema) -> Vec<String> {
    if !schema.outbox {
        return Vec::new();
    }
    vec![format!("DROP FUNCTION {}()", function_ident(schema))]
}

/// The parameter types of [`OutboxSql::publish`].
pub(crate) const PUBLISH_TYPES: &[Type] = &[Type::UUID, Type::TEXT, Type::TEXT, Type::JSONB];
/// Of [`OutboxSql::claim`].
pub(crate) const CLAIM_TYPES: &[Type] = &[Type::FLOAT8, Type::INT8];
/// Of [`OutboxSql::done`].
pub(crate) const DONE_TYPES: &[Type] = &[Type::UUID, Type::INT4];
/// Of [`OutboxSql::retry`].
pub(crate) const RETRY_TYPES: &[Type] = &[Type::UUID, Type::INT4, Type::FLOAT8, Type::TEXT];
/// Of [`OutboxSql::release`].
pub(crate) const RELEASE_TYPES: &[Type] = &[Type::UUID_ARRAY, Type::INT4_ARRAY];

/// The statements of one outbox, rendered once.
pub(crate) struct OutboxSql {
    /// `$1` id, `$2` topic, `$3` key, `$4` payload.
    pub(crate) publish: String,
    /// `$1` lease in seconds, `$2` how many: takes the oldest available
    /// event of each key no other relay holds, counts the attempt, and
    /// leases it until `now() + $1`; returns the events as stored.
    pub(crate) claim: String,
    /// `$1` id, `$2` the attempt claimed: deletes a delivered event,
    /// unless its lease was lost (another relay claimed it since); returns
    /// its id when it did.
    pub(crate) done: String,
    /// `$1` id, `$2` the attempt claimed, `$3` delay in seconds, `$4` the
    /// error: the event becomes available again after the delay (its id
    /// returned, unless the lease was lost).
    pub(crate) retry: String,
    /// `$1` ids, `$2` the attempts claimed: hands events back untried.
    pub(crate) release: String,
    /// Where `id`, `attempts` and `created_at` stand in a claimed row.
    pub(crate) positions: Option<[usize; 3]>,
}

impl OutboxSql {
    pub(crate) fn new(schema: &'static TableSchema) -> OutboxSql {
        let t = table_ident(schema);
        let returning = schema
            .columns
            .iter()
            .map(|c| format!("o.{}", quote_ident(c.name)))
            .collect::<Vec<_>>()
            .join(", ");
        let updated = if schema.column("updated_at").is_some() {
            ", \"updated_at\" = now()"
        } else {
            ""
        };
        let at = |name: &str| schema.columns.iter().position(|c| c.name == name);
        OutboxSql {
            positions: at("id")
                .zip(at("attempts"))
                .zip(at("created_at"))
                .map(|((id, attempts), created_at)| [id, attempts, created_at]),
            publish: format!(
                "INSERT INTO {t} (\"id\", \"topic\", \"key\", \"payload\", \"attempts\", \
                 \"available_at\", \"created_at\", \"updated_at\") \
                 VALUES ($1, $2, $3, $4, 0, clock_timestamp(), clock_timestamp(), clock_timestamp())"
            ),
            claim: format!(
                "UPDATE {t} AS o SET \"available_at\" = now() + make_interval(secs => $1), \
                 \"attempts\" = o.\"attempts\" + 1{updated} \
                 WHERE o.\"id\" = ANY(ARRAY(\
                 SELECT c.\"id\" FROM {t} AS c \
                 WHERE c.\"available_at\" <= now() \
                 AND NOT EXISTS (SELECT FROM {t} AS p WHERE p.\"key\" = c.\"key\" \
                 AND (p.\"created_at\", p.\"id\") < (c.\"created_at\", c.\"id\")) \
                 ORDER BY c.\"created_at\", c.\"id\" LIMIT $2 \
                 FOR UPDATE SKIP LOCKED)) \
                 RETURNING {returning}"
            ),
            done: format!(
                "DELETE FROM {t} WHERE \"id\" = $1 AND \"attempts\" = $2 RETURNING \"id\""
            ),
            retry: format!(
                "UPDATE {t} SET \"available_at\" = now() + make_interval(secs => $3), \
                 \"last_error\" = $4{updated} WHERE \"id\" = $1 AND \"attempts\" = $2 \
                 RETURNING \"id\""
            ),
            release: format!(
                "UPDATE {t} SET \"available_at\" = now(), \"attempts\" = \"attempts\" - 1{updated} \
                 WHERE (\"id\", \"attempts\") IN (SELECT * FROM unnest($1::uuid[], $2::int4[]))"
            ),
        }
    }
}

impl OutboxSql {
    /// Each statement's text, with its operation's name.
    pub(crate) fn texts_mut(&mut self) -> [(&'static str, &mut String); 5] {
        [
            ("publish", &mut self.publish),
            ("outbox_claim", &mut self.claim),
            ("outbox_done", &mut self.done),
            ("outbox_retry", &mut self.retry),
            ("outbox_release", &mut self.release),
        ]
    }

    /// Each statement with its operation's name and parameter types.
    #[cfg(any(feature = "tools", feature = "testing"))]
    pub(crate) fn all(&self) -> [(&'static str, &str, &'static [Type]); 5] {
        [
            ("publish", &self.publish, PUBLISH_TYPES),
            ("outbox_claim", &self.claim, CLAIM_TYPES),
            ("outbox_done", &self.done, DONE_TYPES),
            ("outbox_retry", &self.retry, RETRY_TYPES),
            ("outbox_release", &self.release, RELEASE_TYPES),
        ]
    }
}
