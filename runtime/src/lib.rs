//! # ordinance
//!
//! PostgreSQL conventions that cannot be broken by accident. Write plain
//! structs with `#[derive(Entity)]`; the compiler refuses any entity that
//! breaks the conventions (snake_case plural tables, UUID ids, `created_at` /
//! `updated_at` timestamptz audit columns, soft delete through `deleted_at`,
//! optimistic locking through `version`), pointing at the item to change and
//! saying what to write instead. The derive produces a static schema from
//! which the kit renders DDL.
//!
//! ```
//! use ordinance::prelude::*;
//!
//! /// People who can sign in.
//! #[derive(Entity, Debug)]
//! pub struct User {
//!     pub id: Uuid,
//!     #[column(max_len = 320, unique)]
//!     pub email: String,
//!     pub is_admin: bool,
//!     pub created_at: DateTime<Utc>,
//!     pub updated_at: DateTime<Utc>,
//!     pub deleted_at: Option<DateTime<Utc>>,
//!     pub version: i32,
//! }
//!
//! assert_eq!(User::TABLE, "users");
//! assert_eq!(UserColumn::Email.name(), "email");
//! assert!(ordinance::ddl::create_table(User::SCHEMA).contains("\"email\" TEXT NOT NULL"));
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`schema`] | the static table description the derive writes |
//! | [`ddl`] | `CREATE` / `DROP` statements rendered from schemas, in dependency order |
//! | [`query`] | the fixed statements of an entity, and scoped sea-query selects |
//! | [`exec`] | connections that keep their statements, executors (pooled, `Client`, transaction, unnamed), transactions, redacted parameters |
//! | [`repo`] | insert, get, find, update, soft delete, restore, purge, count, exists |
//! | [`batch`] | atomic batch inserts and upserts, and binary `COPY` |
//! | [`bulk`] | update, soft delete, restore and retention purge of every matching row, in short chunks |
//! | [`telemetry`] | the spans' attributes and the metrics the kit records |
//! | [`pool`] | a connection pool: min/max size, acquire and statement timeouts, close |
//! | [`testing`] | a throwaway PostgreSQL server for tests and examples (feature `testing`) |
//! | [`migrate`] | versioned migrations: generated from the entities, drift-checked, applied under a lock |
//! | [`partition`] | time partitions of `#[entity(partitioned(...))]` tables: made ahead, dropped whole |
//! | [`page`] | keyset pagination with opaque, optionally signed cursors |
//! | [`history`], [`outbox`] | row history by trigger; a transactional outbox and its relays |
//! | [`relation`] | relations from foreign keys: loads one statement per level, typed joins |
//! | `tls` | TLS connections with rustls (feature `tls`) |
//! | [`audit`], [`adopt`], [`document`], [`diagram`], [`stats`], [`cli`] | tools around the runtime (feature `tools`, on by default; `default-features = false` leaves them out) |
//! | [`Error`] | the one error type; its module docs map each SQLSTATE to a variant |

#![warn(missing_docs)]
// docs.rs (nightly, `--cfg docsrs`) badges each feature-gated item with
// its feature; every build of the documentation shows them (`cfg(doc)`).
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod adopt;
#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod audit;
pub mod batch;
pub mod bulk;
mod checks;
#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod cli;
pub mod cluster;
mod column_type;
mod cursor;
pub mod ddl;
#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod diagram;
#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod document;
mod entity;
mod error;
pub mod exec;
#[cfg(any(feature = "tools", feature = "testing"))]
mod fill;
mod fnv;
pub mod guide;
pub mod history;
pub mod inspect;
pub mod migrate;
pub mod outbox;
pub mod page;
mod params;
pub mod partition;
mod pg_error;
pub mod pool;
#[cfg(any(feature = "tools", feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tools", feature = "testing"))))]
pub mod proof;
pub mod query;
pub mod relation;
pub mod repo;
#[cfg(feature = "testing")]
mod rerun;
mod row;
pub mod schema;
#[cfg(feature = "serde")]
mod serial;
mod sql;
#[cfg(any(feature = "tools", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod stats;
pub mod telemetry;
#[cfg(any(feature = "testing", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
/// TLS connections with rustls: **requires the `tls` feature**
/// (`ordinance = { version = "…", features = ["tls"] }`), which adds
/// `tls::connector_from_pem` and friends for
/// [`pool::Pool::connect_with_tls`]. This page stands in for the module in
/// documentation built without the feature; build the documentation with
/// `--features tls` (docs.rs builds every feature) to read it.
#[cfg(all(doc, not(feature = "tls")))]
pub mod tls {}

pub use checks::{Rule, ValueLimits, Violation};
pub use column_type::{ColumnType, DbEnum, Json};
pub use entity::{Entity, KeysetOrder, NewEntity, Patch, UniqueKey};
pub use error::{CursorError, Error, Failure, Result};
pub use params::{Params, SqlParam};
pub use pg_error::PgError;
pub use schema::{ColumnDefault, SqlType, TableSchema};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use serial::Reveal;

/// Every entity linked into this program (each `#[derive(Entity)]`
/// registers itself), ordered by table name: the list for
/// [`migrate::assert_up_to_date`] when the migrations cover all of them.
///
/// Entities of a library crate count when the library is linked in. Two
/// entities of one table (old and new versions of a struct, say) are both
/// listed; [`ddl::SchemaDdl`] then refuses the clash.
pub fn registered_schemas() -> Vec<&'static TableSchema> {
    let mut all: Vec<&'static TableSchema> = inventory::iter::<__private::Registered>
        .into_iter()
        .map(|r| r.0)
        .collect();
    all.sort_by_key(|s| (s.name, s.struct_name));
    all
}

/// Derives [`Entity`] for a struct, enforcing every convention at compile time.
///
/// The parts of the rule book a team sets for itself — generated names,
/// required actor columns, how ids are made, how bounded text is stored —
/// come from `[workspace.metadata.ordinance]` / `[package.metadata.ordinance]`
/// in `Cargo.toml` ([the guide](crate::guide::conventions)); the entity's
/// [`TableSchema::conventions`] records them.
///
/// Struct attributes, `#[entity(...)]`:
///
/// | key | meaning |
/// |---|---|
/// | `table = "name"` | table name (default: the struct name in snake_case, pluralised) |
/// | `schema = "auth"` | the PostgreSQL schema of the table (default `public`) |
/// | `index(a, b desc)` / `unique(a, b)` | a (unique) index over several columns; `name = "..."` inside overrides the generated name |
/// | `index(a, where(status = "open"))`, `where(is_pinned)` | a partial index on an enum value (checked at compile time) or a boolean |
/// | `unique(lower(email))` | an index on `lower(col)` of a text column |
/// | `index(json(settings, "max_tokens") as i32)` | an index on a field of a JSONB column, as text (no `as`) or cast to `i16`, `i32`, `i64`, `Decimal` or `bool`; nested fields list their keys (`json(settings, "limits", "daily")`); [`query::json`] filters on the field use it |
/// | `index(tags, using = "gin")` or `index(gin(tags))`, `index(a, include(b))` | GIN for JSONB and arrays (`gin(col)` for several, which clippy's `duplicated_attributes` does not flag); covering `INCLUDE` columns |
/// | `keyset(newest = (created_at desc))`, `keyset(created_at desc)` | a keyset order, backed by an index; `id` is appended when absent; [`Pager::order`](page::Pager::order) takes it by name, `PostOrder::Newest` (unnamed: after its columns, `PostOrder::CreatedAtDesc`) |
/// | `exempt(soft_delete = "why")` | waive a rule: `soft_delete`, `version`, `plural`, `join_name`, `actor_columns` (the actor columns the team's policy requires) |
/// | `tenant` | rows belong to tenants: needs `tenant_id: Uuid`, filled from the transaction's tenant (`app.tenant_id`); keyset orders lead with it; the DDL enables and forces row-level security with a policy on it |
///
/// Field attributes, `#[column(...)]`:
///
/// | key | meaning |
/// |---|---|
/// | `name = "col"` | column name (default: the field name) |
/// | `min_len = N`, `max_len = N` | text length checks; a value outside them is refused before it is sent ([`Error::Invalid`]) |
/// | `min = N`, `max = N` | numeric range checks (integers, `Decimal`); a value outside them is refused before it is sent ([`Error::Invalid`]) |
/// | `unique`, `index`, `index_name = "..."` | single-column (unique) index and its name |
/// | `references = Entity`, `on_delete = "cascade"` | foreign key (`restrict` by default, or `set null`) |
/// | `precision = P, scale = S` | `NUMERIC(P,S)` for `Decimal` (and `NUMERIC(P,S)[]` for `Vec<Decimal>`); a value with more digits is refused before it is sent, never rounded ([`Error::Invalid`]) |
/// | `default = 0` | a constant default, checked against the type: a number, a string (an enum's stored value), `true`/`false`, `now`, `[]`, `{}` |
/// | `sensitive` | personal data: the derive writes the entity's `Debug`, showing `<redacted>` for it (so do not also derive `Debug`), and the column comment records it |
/// | `backfill = 0` | the value existing rows take when the column becomes `NOT NULL` (same constants) |
/// | `renamed_from = "old"` | the column's previous name, for a migration that renames it |
/// | `exempt(float = "why")` | waive a rule: `float`, `foreign_key`, `boolean_name`, `tenant_reference` (a foreign key from a table that is not a tenant table into a tenant table) |
///
/// Field types: `Uuid`, `String`, `bool`, `i16`, `i32`, `i64`, `Decimal`,
/// `DateTime<Utc>`, `NaiveDate`, `serde_json::Value` and [`Json<T>`]
/// (JSONB), `Vec<u8>` (BYTEA), a [`DbEnum`], arrays `Vec<T>` of the scalar
/// types (`Vec<Option<T>>` when elements may be NULL), any type
/// implementing [`ColumnType`], and `Option<T>` of each for a nullable
/// column. The compiler names the type to use for the rest (`u32`, `f64`,
/// `NaiveDateTime`, arrays of arrays, ...).
///
/// Optional audit columns `created_by` and `updated_by` (`Uuid`, or
/// `Option<Uuid>` to allow writes without an actor) record who made a
/// change: the transaction's actor (`app.actor_id`, set by
/// [`cluster::Cluster::as_actor`] or [`exec::set_scope`]), on insert and on
/// every update path. Like the timestamps, the application never sets them.
///
/// What the derive generates for `struct User` (nothing else is added to
/// the crate):
///
/// | item | what it is |
/// |---|---|
/// | `impl Entity for User` | `User::TABLE`, `User::SCHEMA` (the static [`TableSchema`] DDL, migrations, documents and the runtime are driven by), the fixed statements, row decoding and value binding |
/// | `NewUser` | the business fields only: what an insert takes; `id`, the timestamps, `version`, `deleted_at`, `tenant_id`, `created_by` / `updated_by` are filled in by the kit and the database |
/// | `UserColumn` | one variant per column (`UserColumn::Email`), `UserColumn::ALL`, `.name()`; a sea-query `Iden` for expressions |
/// | `UserKey` | one variant per unique index (`UserKey::Email`, `MembershipKey::OrgIdUserId`): the conflict targets of upserts |
/// | `Post::AUTHOR`, ... | one [`relation::Relation`] constant per foreign key (the column without `_id`, upper-cased), for relation loads and joins; a join entity of two foreign keys also implements [`relation::JoinEntity`] |
/// | `impl Debug for User` | only with `sensitive` columns, showing them as `<redacted>` |
/// | registration | the schema joins [`registered_schemas`] |
///
/// Every convention error is reported at the attribute or field that
/// breaks it, with the fix; the UI tests of the kit's repository show each.
pub use ordinance_macros::Entity;

/// Derives [`DbEnum`] (and [`ColumnType`]) for a fieldless enum stored as
/// snake_case `TEXT`, restricted by a `CHECK (col IN (...))`.
///
/// ```
/// use ordinance::prelude::*;
///
/// #[derive(DbEnum, Clone, Copy, Debug, PartialEq)]
/// enum PostStatus { Draft, InReview, Published }
///
/// assert_eq!(PostStatus::VALUES, ["draft", "in_review", "published"]);
/// assert_eq!(PostStatus::InReview.as_str(), "in_review");
/// assert_eq!(PostStatus::from_str_value("published"), Some(PostStatus::Published));
/// ```
///
/// A variant is a sea-query value too (its stored text, bound as `TEXT`
/// like the column), so filters, `IN` lists and updates take it as written:
///
/// ```
/// use ordinance::prelude::*;
/// use ordinance::deps::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
///
/// #[derive(DbEnum, Clone, Copy, Debug, PartialEq)]
/// pub enum TicketStatus { Open, Closed }
///
/// # #[derive(Entity)] pub struct Ticket { pub id: Uuid, pub status: TicketStatus, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
/// let mut select = ordinance::query::live::<Ticket>();
/// select.and_where(Expr::col(TicketColumn::Status).eq(TicketStatus::Open));
/// select.and_where(Expr::col(TicketColumn::Status).is_in([TicketStatus::Open, TicketStatus::Closed]));
/// let (sql, values) = select.build(PostgresQueryBuilder);
/// assert!(sql.contains(r#""status" = $1"#));
/// assert_eq!(values.0[0], "open".into());
/// ```
///
/// Under a policy of `types.enums = "native"` (in the crate's or its
/// workspace's `Cargo.toml`), the enum is a PostgreSQL enum type instead,
/// named after it in snake_case (`"ticket_status"`), and a variant as a
/// sea-query value carries the cast (`"status" = $1::"ticket_status"`);
/// see the conventions chapter of the guide.
pub use ordinance_macros::DbEnum;

/// Builds a migrations folder into the binary, as a
/// `Result<`[`migrate::Migrations`]`>`; the path is relative to the crate's
/// `Cargo.toml` (default `"migrations"`). At start-up,
/// `ordinance::embed_migrations!("migrations")?.up(&mut client).await?`
/// applies them with no files beside the binary; the blog example
/// (`examples/blog.rs`) does exactly that.
pub use ordinance_macros::embed_migrations;

/// A test with a database of its own (feature `testing`), like
/// `#[tokio::test]` with a clean database per test.
///
/// Each test gets a new database cloned from a template built once per
/// process: from the crate's migrations folder (applied in full and
/// recorded, so the runner finds nothing pending), or from the DDL of every
/// entity linked into the test. It runs on the throwaway server, or on the
/// one in `DATABASE_URL` (where each test database is built afresh and
/// dropped afterwards, so nothing of the kit stays on a server it does not
/// own).
///
/// | form | tables from |
/// |---|---|
/// | `#[ordinance::test]` | `migrations/` when the crate has it, else the entities |
/// | `#[ordinance::test(migrations = "db/migrations")]` | that folder, relative to the crate's `Cargo.toml` |
/// | `#[ordinance::test(entities)]` | [`registered_schemas`] |
///
/// Entities count when their crate is linked into the test binary: a test
/// that never names a type of the entities' crate may find none, so `use`
/// one (the entity its fixtures insert, say).
///
/// The first argument without an attribute is the test's handle to its
/// database: an [`exec::Connection`], a [`pool::Pool`], the
/// `tokio_postgres::Config`, or `&testing::TestDatabase`. Every argument
/// marked `#[fixture(expr)]` is inserted before the body runs, in the order
/// written, and the test receives it as stored: `expr` is a `New…` value of
/// the argument's entity, or a `Vec` of them for a `Vec` of entities
/// ([`testing::Fixture`]). A fixture may use the ones before it. A
/// failing fixture fails the test, naming the argument.
///
/// ```no_run
/// use ordinance::exec::Connection;
/// use ordinance::prelude::*;
/// use ordinance::repo::Repo;
///
/// #[derive(Entity, Debug, Clone)]
/// pub struct Author { pub id: Uuid, #[column(max_len = 80)] pub name: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
///
/// #[derive(Entity, Debug, Clone)]
/// pub struct Book {
///     pub id: Uuid,
///     #[column(references = Author)]
///     pub author_id: Uuid,
///     #[column(max_len = 200)]
///     pub title: String,
///     pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32,
/// }
///
/// fn ursula() -> NewAuthor {
///     NewAuthor { name: "Ursula".into() }
/// }
///
/// fn books_by(author: &Author) -> Vec<NewBook> {
///     ["The Dispossessed", "The Lathe of Heaven"]
///         .map(|title| NewBook { author_id: author.id, title: title.into() })
///         .into()
/// }
///
/// #[ordinance::test(entities)]
/// async fn an_author_has_books(
///     conn: Connection,
///     #[fixture(ursula())] author: Author,
///     #[fixture(books_by(&author))] books: Vec<Book>,
/// ) {
///     let repo = Repo::new(&conn);
///     assert_eq!(repo.get::<Author>(author.id).await.unwrap().name, "Ursula");
///     assert_eq!(books.len(), 2);
/// }
/// ```
///
/// *Requires the `testing` feature.*
#[cfg(any(feature = "testing", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use ordinance_macros::test;

/// The names most entity code needs: the derives, their traits, and the id
/// and time types of the required columns.
pub mod prelude {
    pub use crate::{DbEnum, Entity, KeysetOrder};
    pub use chrono::{DateTime, NaiveDate, Utc};
    pub use rust_decimal::Decimal;
    pub use uuid::Uuid;
}

/// Re-exported dependencies, for code that needs their full API.
pub mod deps {
    pub use chrono;
    pub use futures_util;
    pub use rust_decimal;
    pub use sea_query;
    pub use serde_json;
    pub use tokio_postgres;
    pub use uuid;
}

/// Items the generated code refers to. Not a public API: names and shapes can
/// change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::checks::{Checker, Limits};
    pub use crate::column_type::{
        enum_accepts, enum_from_sql, enum_from_value, enum_value, enum_value_null,
        native_enum_value, native_enum_value_null, ColumnType,
    };
    pub use crate::entity::{column_name, decode};
    pub use crate::params::{patch_field, ColumnSet, Params, SqlParam};
    pub use crate::query::Statements;
    pub use crate::schema::{
        BoundedText, Check, CheckKind, Column, ColumnDefault, Conventions, EnumStorage, EnumType,
        ForeignKey, IdGeneration, Index, IndexColumn, IndexCondition, IndexFunction, IndexMethod,
        Naming, OnDelete, Partitioning, Period, PeriodUnit, SqlType, TableSchema, Waiver,
    };
    pub use crate::schema::{ACTOR_SETTING, TENANT_SETTING};
    #[cfg(feature = "serde")]
    pub use crate::serial::{
        deserialize_order, json, json_or_null, serialize_order, set, set_json, set_json_or_null,
        set_or_null, SerJson, SerializeFields,
    };
    pub use crate::sql::outbox::{OUTBOX_NO_SOFT_DELETE, OUTBOX_NO_VERSION};
    #[cfg(feature = "testing")]
    pub use crate::testing::fixture::{
        open as test_open, run as test_run, seed as test_seed, seeder as test_seeder,
    };
    pub use crate::Result;
    pub use inventory;
    pub use sea_query;
    #[cfg(feature = "serde")]
    pub use serde;
    pub use std::borrow::Cow;
    pub use std::sync::OnceLock;
    pub use tokio_postgres::types as pg_types;
    pub use uuid::Uuid;

    /// Whether a text constant (a default, a backfill, an index predicate)
    /// is a value a column of type `T` holds: one of its listed values (an
    /// enum), or anything when `T` is plain `TEXT`.
    pub const fn text_value_allowed<T: ColumnType>(value: &str) -> bool {
        let mut values = T::ALLOWED_VALUES;
        if values.is_empty() {
            return matches!(T::SQL_TYPE, SqlType::Text);
        }
        if let SqlType::Enum(e) = T::SQL_TYPE {
            values = e.values;
        }
        let mut i = 0;
        while i < values.len() {
            if const_str_eq(values[i], value) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether two strings are equal, in a `const` (a referenced table's
    /// name checked against the one a foreign key's name was built with).
    pub const fn const_str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Whether `[]` is a constant of this type: an array or JSON.
    pub const fn takes_empty_array(ty: SqlType) -> bool {
        matches!(ty, SqlType::Array(_) | SqlType::Jsonb)
    }
    pub use tokio_postgres::Row;

    /// Stands in for a sensitive value in `Debug` output.
    pub struct RedactedValue;

    impl std::fmt::Debug for RedactedValue {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("<redacted>")
        }
    }

    /// An entity's schema, registered by its derive.
    #[derive(Debug)]
    pub struct Registered(pub &'static TableSchema);

    inventory::collect!(Registered);

    /// The schema of an entity whose derive reported errors; never used at run time
    /// because such a crate does not compile.
    pub const FALLBACK_SCHEMA: TableSchema = TableSchema {
        schema: None,
        name: "",
        struct_name: "",
        comment: None,
        columns: &[],
        primary_key: "",
        foreign_keys: &[],
        checks: &[],
        indexes: &[],
        keysets: &[],
        waivers: &[],
        tenant: false,
        history: false,
        aggregate_root: false,
        outbox: false,
        partitioned: None,
        conventions: &crate::schema::Conventions::DEFAULT,
    };
}
