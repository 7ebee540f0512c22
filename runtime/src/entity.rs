//! The trait `#[derive(Entity)]` implements.

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::Result;
use crate::params::{ColumnSet, Params};
use crate::schema::TableSchema;
use crate::sql::Statements;

/// A struct mapped to a table that follows the conventions.
///
/// Implemented by `#[derive(Entity)]`, never by hand: the derive checks the
/// conventions before it writes the implementation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "`{Self}` does not derive `Entity`",
    note = "`references = ...` and the repository take a struct with `#[derive(Entity)]`"
)]
pub trait Entity: Sized + Send + Sync + 'static {
    /// The table name, e.g. `users`.
    const TABLE: &'static str;
    /// The PostgreSQL schema of the table (`#[entity(schema = "auth")]`);
    /// `None` is `public`.
    const SCHEMA_NAME: Option<&'static str> = None;
    /// Whether rows belong to tenants (`#[entity(tenant)]`): what a foreign
    /// key into this table is checked against at compile time (from
    /// another tenant table it carries `tenant_id`; from a table that is
    /// not one it is refused unless waived).
    const TENANT: bool = false;
    /// The static description of the table.
    const SCHEMA: &'static TableSchema;
    /// The generated column enum (`UserColumn`), usable in sea-query expressions.
    type Column: sea_query::Iden + Copy + Eq + 'static;
    /// The generated insert type (`NewUser`): the business columns only, so
    /// the caller never invents ids, timestamps or versions.
    type New: NewEntity<Entity = Self>;
    /// The generated unique keys (`UserKey`): one variant per unique index,
    /// what an upsert names as its conflict target.
    type Key: UniqueKey;
    /// The generated keyset orders (`PostOrder`): one variant per
    /// `keyset(...)`, what [`Pager::order`](crate::page::Pager::order)
    /// takes.
    type Order: KeysetOrder;
    /// The generated partial update (`PostPatch`): each business column
    /// optional, what [`Repo::patch`](crate::repo::Repo::patch) writes.
    type Patch: Patch<Entity = Self>;

    /// The entity's fixed SQL text, rendered once per process.
    fn statements() -> &'static Statements;
    /// Decodes a row holding every column in schema order.
    fn from_row(row: &Row) -> Result<Self> {
        Self::from_row_at(row, 0)
    }
    /// Decodes the entity's columns, in schema order, starting at column
    /// `offset` of the row (a joined row holds several entities).
    fn from_row_at(row: &Row, offset: usize) -> Result<Self>;
    /// The primary key.
    fn id(&self) -> uuid::Uuid;
    /// The optimistic-locking version (`None` when the rule is waived).
    fn version(&self) -> Option<i32>;
    /// Appends the business columns' values, in schema order, to `out`.
    fn bind_business<'a>(&'a self, out: &mut Params<'a>);
    /// The business columns' values, in schema order.
    fn business_values(&self) -> Params<'_> {
        let mut out = Params::new();
        self.bind_business(&mut out);
        out
    }
    /// Refuses business values their columns would change or reject
    /// ([`Error::Invalid`](crate::Error::Invalid), every bad column at
    /// once): every write path calls it before anything is sent. Generated
    /// for columns with limits (`min_len`/`max_len`, `min`/`max`,
    /// `precision`/`scale`).
    fn check_values(&self) -> Result<()> {
        Ok(())
    }
}

/// One of an entity's unique indexes, as the generated `{Entity}Key` enum
/// names it (`UserKey::Email` for `#[column(unique)] email`,
/// `MembershipKey::OrgIdUserId` for `#[entity(unique(org_id, user_id))]`).
/// A key that is not a declared unique index has no variant, so an upsert
/// on it does not compile.
pub trait UniqueKey: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// The index's position in the entity's `SCHEMA.indexes`.
    fn index_position(self) -> usize;
}

/// One of an entity's keyset orders, as the generated `{Entity}Order` enum
/// names it: `PostOrder::Newest` for `#[entity(keyset(newest = (created_at
/// desc)))]`, `PostOrder::CreatedAtDesc` for an unnamed
/// `keyset(created_at desc)`. An order the entity does not declare has no
/// variant, so paging by it does not compile.
pub trait KeysetOrder: Copy + Eq + Send + Sync + std::fmt::Debug + 'static {
    /// Every declared order, in declaration order.
    const ALL: &'static [Self];
    /// The order's position in the entity's `SCHEMA.keysets`.
    fn position(self) -> usize;
    /// The order's name: the one declared (`newest`), or its columns as
    /// written (`created_at_desc`). What a query string names it by.
    fn name(self) -> &'static str;
    /// The order with this [`name`](Self::name), if one is declared:
    /// `?order=newest` to `PostOrder::Newest`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|o| o.name() == name)
    }
}

/// The values of a row to insert; generated as `New{Entity}` by the derive.
pub trait NewEntity {
    /// The entity this inserts.
    type Entity: Entity;
    /// Appends the business columns' values, in schema order, to `out`.
    fn bind_business<'a>(&'a self, out: &mut Params<'a>);
    /// The business columns' values, in schema order.
    fn business_values(&self) -> Params<'_> {
        let mut out = Params::new();
        self.bind_business(&mut out);
        out
    }
    /// Refuses values their columns would change or reject, as
    /// [`Entity::check_values`] does.
    fn check_values(&self) -> Result<()> {
        Ok(())
    }
}

/// A partial update of an entity; generated as `{Entity}Patch` by the
/// derive: every business column as an `Option` (`None` leaves the column
/// as it is; a nullable column's field is `Option<Option<T>>`, so
/// `Some(None)` sets it to NULL), and no `id`, tenant, audit, `version` or
/// `deleted_at` field — those the kit writes.
///
/// [`Repo::patch`](crate::repo::Repo::patch) writes the set columns of one
/// row, checked against the caller's version;
/// [`Bulk::patch`](crate::bulk::Bulk::patch) of every row a filter
/// matches.
pub trait Patch: Sync {
    /// The entity this changes.
    type Entity: Entity;
    /// Marks the set columns in `set` and appends their values, in schema
    /// order, to `out`.
    #[doc(hidden)]
    fn bind_set<'a>(&'a self, set: &mut ColumnSet, out: &mut Params<'a>);
    /// Whether no column is set: the patch changes nothing.
    fn is_empty(&self) -> bool;
    /// Refuses set values their columns would change or reject, every bad
    /// column at once, as [`Entity::check_values`] does.
    fn check_values(&self) -> Result<()> {
        Ok(())
    }
}

/// Decodes the entity's column `position`, found at `offset + position` in
/// the row, naming the column when it fails.
#[doc(hidden)]
#[inline]
pub fn decode<'r, T: FromSql<'r>>(
    row: &'r Row,
    offset: usize,
    position: usize,
    schema: &'static TableSchema,
) -> Result<T> {
    row.try_get(offset + position).map_err(|source| {
        let column = schema.columns.get(position).map_or("?", |c| c.name);
        crate::row::decode_error(source, schema.name, column)
    })
}

/// Looks a generated column enum's name up in the entity's schema; the enum's
/// discriminants are the column positions.
#[doc(hidden)]
pub fn column_name(schema: &'static TableSchema, position: usize) -> &'static str {
    schema.columns[position].name
}
