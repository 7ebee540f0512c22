//! Keyset (seek) pagination with opaque cursors. No `OFFSET`, anywhere.
//!
//! An entity declares the orders it pages by:
//! `#[entity(keyset(newest = (created_at desc, id desc)))]`. Each declared
//! order ends in `id` (the derive appends it), so the order is total, and
//! each is backed by an index on exactly those columns and directions,
//! partial on live rows. A pager names its order through the generated
//! `{Entity}Order` enum (`PostOrder::Newest`; an unnamed
//! `keyset(created_at desc)` is `CreatedAtDesc`), never by position.
//!
//! A [`Pager`] names the order, the page size, the scope and the caller's
//! filter; [`Repo::first_page`](crate::repo::Repo::first_page),
//! [`Repo::last_page`](crate::repo::Repo::last_page) and
//! [`Repo::page_at`](crate::repo::Repo::page_at) return a [`Page`]: its rows
//! in display order, a cursor for the next and the previous page, and
//! whether more rows exist each way (found by fetching one row more than the
//! page size, never by counting).
//!
//! Each page is one statement: `WHERE (sort key) < ($1, $2) ORDER BY ...
//! LIMIT size + 1`. When every column of the order runs the same way the
//! boundary is a row-value comparison, which PostgreSQL turns into an index
//! range; when directions are mixed it is the expanded form
//! `a > $1 OR (a = $1 AND b < $2) ...`, with `a >= $1` beside it so the index
//! scan still starts at the boundary.
//!
//! A cursor is URL-safe base64 of the boundary row's sort-key values, the
//! direction, and fingerprints of the entity, the order and the filter it
//! was made for; with [`Pager::signing_key`] it also carries an HMAC-SHA256,
//! so clients cannot forge one. Decoding anything else returns
//! [`Error::InvalidCursor`] naming what was
//! wrong ([`CursorError`]), and never panics. Every key column has a bounded
//! size (text keys declare `max_len`, checked at compile time), so every
//! page of every order has a cursor, at most [`Pager::max_cursor_len`]
//! characters long; key values PostgreSQL would refuse are refused as
//! invalid cursors too, signed or not.
//!
//! ```no_run
//! # use ordinance::prelude::*;
//! # #[derive(Entity, Debug)]
//! # #[entity(keyset(created_at desc, id desc))]
//! # pub struct Post { pub id: Uuid, #[column(max_len = 200)] pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! # async fn demo(client: &ordinance::deps::tokio_postgres::Client) -> ordinance::Result<()> {
//! use ordinance::page::Pager;
//! use ordinance::repo::Repo;
//!
//! let repo = Repo::new(client);
//! let pager = Pager::<Post>::new()?.size(20)?;
//! let page = repo.first_page(&pager).await?;
//! if let Some(cursor) = &page.next {
//!     // hand `cursor` to the client; it comes back as ?after=...
//!     let next = repo.page_at(&pager, cursor).await?;
//!     assert!(next.has_previous);
//! }
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use sea_query::{Alias, Condition, Expr, ExprTrait, IntoCondition, Order, SelectStatement};
use tokio_postgres::Row;

use crate::cursor::{fingerprint, Codec, Cursor, KeyColumn, KeyValue};
use crate::entity::{Entity, KeysetOrder as _};
use crate::error::{CursorError, Error, Result};
use crate::query::Visibility;
use crate::schema::{IndexColumn, TableSchema};

pub use crate::cursor::Direction;

/// Rows per page unless [`Pager::size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page a [`Pager`] accepts unless [`Pager::max_size`] raises it.
pub const MAX_PAGE_SIZE: usize = 500;

/// How to page through `E`: which declared order, how many rows a page
/// holds, which rows (scope and filter), and whether cursors are signed.
///
/// Cursors are only valid with a pager of the same entity, order, scope and
/// filter (the filter's values included); the page size may differ.
pub struct Pager<E> {
    keyset: Keyset,
    entity: PhantomData<fn() -> E>,
}

/// A pager's settings and the work on them, the same code for every
/// entity (driven by its static schema), so an application with many
/// entities compiles it once.
#[derive(Clone)]
struct Keyset {
    schema: &'static TableSchema,
    order: usize,
    size: usize,
    max_size: usize,
    scope: Visibility,
    filter: Option<Condition>,
    /// The fingerprint of scope and filter, computed when they are set (an
    /// unsupported filter value is reported when a page runs).
    filter_print: std::result::Result<u32, String>,
    key: Option<Vec<u8>>,
    /// The order's columns as the cursor codec sees them.
    key_columns: Vec<KeyColumn>,
    /// Whether [`Pager::size`] was called (else [`Pager::max_size`] may
    /// lower the default size to fit).
    size_chosen: bool,
}

impl<E> Clone for Pager<E> {
    fn clone(&self) -> Self {
        Pager {
            keyset: self.keyset.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Pager<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = &self.keyset;
        f.debug_struct("Pager")
            .field("table", &k.schema.name)
            .field("order", &k.order)
            .field("size", &k.size)
            .field("max_size", &k.max_size)
            .field("scope", &k.scope)
            .field("filtered", &k.filter.is_some())
            .field("signed", &k.key.is_some())
            .finish()
    }
}

impl<E: Entity> Pager<E> {
    /// Pages of live rows in the entity's first declared order,
    /// [`DEFAULT_PAGE_SIZE`] rows each. [`Error::NoKeyset`] if the entity
    /// declares no `keyset(...)`.
    pub fn new() -> Result<Self> {
        Keyset::new(E::SCHEMA).map(|keyset| Pager {
            keyset,
            entity: PhantomData,
        })
    }

    /// Pages in one of the entity's declared orders, by the name the derive
    /// gave it: `Pager::<Post>::new()?.order(PostOrder::Newest)`.
    pub fn order(self, order: E::Order) -> Self {
        Pager {
            keyset: self.keyset.with_order(order.position()),
            entity: PhantomData,
        }
    }

    /// Raises or lowers the largest page size [`size`](Self::size) accepts.
    /// A maximum of 0, which no page could meet, is [`Error::InvalidSetting`];
    /// so is one below a size already chosen. The default size shrinks to
    /// fit a lower maximum.
    pub fn max_size(mut self, max: usize) -> Result<Self> {
        self.keyset = self.keyset.max_size(max)?;
        Ok(self)
    }

    /// Rows per page: from 1 to the maximum ([`MAX_PAGE_SIZE`] by default).
    /// A size outside that range is [`Error::PageSize`], not silently clamped,
    /// so a client asking for too much learns it.
    pub fn size(mut self, size: usize) -> Result<Self> {
        self.keyset = self.keyset.size(size)?;
        Ok(self)
    }

    /// Only rows matching `condition`, ANDed with any earlier filter and
    /// with the scope: each call narrows, none replaces (an ownership check
    /// written first stays). Part of the cursor's fingerprint: a cursor made
    /// under another filter is refused.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.keyset = self.keyset.filter(condition.into_condition());
        self
    }

    /// Which rows: [`Visibility::Live`] (the default, served by the partial
    /// keyset index), [`Visibility::WithDeleted`] or [`Visibility::OnlyDeleted`].
    pub fn visibility(mut self, scope: Visibility) -> Self {
        self.keyset = self.keyset.visibility(scope);
        self
    }

    /// Signs cursors with HMAC-SHA256 under `key`, and accepts only cursors
    /// signed with it.
    pub fn signing_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.keyset = self.keyset.signing_key(key.into());
        self
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        self.keyset.size
    }

    /// The order's columns, `id` last.
    pub fn columns(&self) -> &'static [IndexColumn] {
        self.keyset.columns()
    }

    /// The longest cursor this pager makes or accepts, in characters: it
    /// follows from the order's columns (a text key's `max_len`, an enum's
    /// longest value), and from whether cursors are signed.
    pub fn max_cursor_len(&self) -> usize {
        self.keyset.max_cursor_len()
    }

    /// Checks a cursor without running anything: `Ok` with its direction if
    /// this pager would accept it.
    pub fn check_cursor(&self, cursor: &str) -> Result<Direction> {
        self.keyset.check_cursor(cursor)
    }

    /// The SQL of the first page (for `EXPLAIN` and logs). Values, if any,
    /// are bound separately when the page runs.
    pub fn first_page_statement(&self) -> SelectStatement {
        self.keyset.first_page_statement()
    }

    /// The statement of the page a cursor points to (for `EXPLAIN` and logs);
    /// [`Error::InvalidCursor`] for a cursor this pager cannot use.
    pub fn cursor_statement(&self, cursor: &str) -> Result<SelectStatement> {
        self.keyset.cursor_statement(cursor)
    }

    /// The statement of a page and how to read its rows.
    pub(crate) fn plan(&self, start: Start<'_>) -> Result<Plan> {
        self.keyset.plan(start)
    }

    /// Builds the page from the rows `plan` fetched.
    pub(crate) fn page(&self, plan: Plan, rows: Vec<Row>) -> Result<Page<E>> {
        let page = self.keyset.page(plan, rows)?;
        Ok(Page {
            items: page.items.iter().map(E::from_row).collect::<Result<_>>()?,
            next: page.next,
            previous: page.previous,
            has_next: page.has_next,
            has_previous: page.has_previous,
        })
    }
}

impl Keyset {
    /// Live rows of `schema`'s table in its first declared order.
    fn new(schema: &'static TableSchema) -> Result<Self> {
        if schema.keysets.is_empty() {
            return Err(Error::NoKeyset { table: schema.name });
        }
        Ok(Keyset {
            schema,
            order: 0,
            size: DEFAULT_PAGE_SIZE,
            max_size: MAX_PAGE_SIZE,
            scope: Visibility::Live,
            filter: None,
            filter_print: Ok(0),
            key: None,
            key_columns: Vec::new(),
            size_chosen: false,
        }
        .with_order(0))
    }

    /// Pages in the declared order at `index`.
    fn with_order(mut self, index: usize) -> Self {
        self.order = index;
        let schema = self.schema;
        self.key_columns = self
            .positions()
            .into_iter()
            .map(|p| KeyColumn::new(schema, &schema.columns[p]))
            .collect();
        self.with_filter_print()
    }

    fn max_size(mut self, max: usize) -> Result<Self> {
        if max == 0 {
            return Err(Error::InvalidSetting {
                setting: "Pager::max_size",
                reason: "a maximum page size of 0 allows no page; give 1 or more".into(),
            });
        }
        if self.size > max {
            if self.size_chosen {
                return Err(Error::InvalidSetting {
                    setting: "Pager::max_size",
                    reason: format!("{max} is below the page size {} already chosen", self.size),
                });
            }
            self.size = max;
        }
        self.max_size = max;
        Ok(self)
    }

    fn size(mut self, size: usize) -> Result<Self> {
        if size == 0 || size > self.max_size {
            return Err(Error::PageSize {
                requested: size,
                max: self.max_size,
            });
        }
        self.size = size;
        self.size_chosen = true;
        Ok(self)
    }

    fn filter(mut self, condition: Condition) -> Self {
        self.filter = Some(match self.filter.take() {
            // A single filter keeps its own rendering, so the fingerprints
            // of cursors made under one filter do not change.
            Some(earlier) => Condition::all().add(earlier).add(condition),
            None => condition,
        });
        self.with_filter_print()
    }

    fn visibility(mut self, scope: Visibility) -> Self {
        self.scope = scope;
        self.with_filter_print()
    }

    fn with_filter_print(mut self) -> Self {
        self.filter_print = self.compute_filter_print().map_err(|e| e.to_string());
        self
    }

    fn filter_print(&self) -> Result<u32> {
        self.filter_print.clone().map_err(Error::UnsupportedValue)
    }

    fn signing_key(mut self, key: Vec<u8>) -> Self {
        self.key = Some(key);
        self
    }

    fn columns(&self) -> &'static [IndexColumn] {
        self.schema.keysets[self.order]
    }

    fn positions(&self) -> Vec<usize> {
        self.columns()
            .iter()
            .map(|c| {
                self.schema
                    .columns
                    .iter()
                    .position(|s| s.name == c.name)
                    .unwrap_or(0)
            })
            .collect()
    }

    fn entity_print(&self) -> u32 {
        fingerprint(&[self.schema.name.as_bytes()])
    }

    fn order_print(&self) -> u32 {
        let mut parts: Vec<&[u8]> = vec![self.schema.name.as_bytes()];
        for c in self.columns() {
            parts.push(c.name.as_bytes());
            parts.push(if c.descending { b"desc" } else { b"asc" });
        }
        fingerprint(&parts)
    }

    fn compute_filter_print(&self) -> Result<u32> {
        let scope: &[u8] = match self.scope {
            Visibility::Live => b"live",
            Visibility::WithDeleted => b"with_deleted",
            Visibility::OnlyDeleted => b"only_deleted",
        };
        let Some(filter) = &self.filter else {
            return Ok(fingerprint(&[scope]));
        };
        let (sql, values) = sea_query::Query::select()
            .cond_where(filter.clone())
            .build(sea_query::PostgresQueryBuilder);
        // Values by their wire encoding, which does not change between builds.
        let mut encoded = Vec::new();
        for (param, ty) in crate::exec::bind_values(values)? {
            let mut buf = bytes::BytesMut::new();
            match param.to_sql_checked(&ty, &mut buf) {
                Ok(tokio_postgres::types::IsNull::No) => encoded.push(buf.to_vec()),
                Ok(tokio_postgres::types::IsNull::Yes) => encoded.push(b"\0null".to_vec()),
                Err(e) => return Err(Error::UnsupportedValue(e.to_string())),
            }
        }
        let mut parts: Vec<&[u8]> = vec![scope, sql.as_bytes()];
        parts.extend(encoded.iter().map(Vec::as_slice));
        Ok(fingerprint(&parts))
    }

    fn codec(&self) -> Result<Codec<'_>> {
        Ok(Codec {
            entity: self.entity_print(),
            order: self.order_print(),
            filter: self.filter_print()?,
            columns: &self.key_columns,
            key: self.key.as_deref(),
        })
    }

    fn max_cursor_len(&self) -> usize {
        Codec {
            entity: 0,
            order: 0,
            filter: 0,
            columns: &self.key_columns,
            key: self.key.as_deref(),
        }
        .max_len()
    }

    fn encode(&self, cursor: &Cursor) -> Result<String> {
        self.codec()?.encode(cursor).map_err(Error::InvalidCursor)
    }

    fn decode(&self, text: &str) -> std::result::Result<Cursor, CursorError> {
        // A filter that cannot be fingerprinted matches no cursor.
        let codec = self.codec().map_err(|_| CursorError::OtherFilter)?;
        codec.decode(text)
    }

    fn check_cursor(&self, cursor: &str) -> Result<Direction> {
        self.decode(cursor)
            .map(|c| c.direction)
            .map_err(Error::InvalidCursor)
    }

    /// The statement of one page: from the start (`None`) or from a
    /// boundary, running `direction`, `size + 1` rows.
    fn statement(&self, from: Option<&[KeyValue]>, direction: Direction) -> SelectStatement {
        let mut q = crate::query::select_schema(self.schema, self.scope);
        if let Some(filter) = &self.filter {
            q.cond_where(filter.clone());
        }
        order_page(
            &mut q,
            self.schema,
            self.columns(),
            from,
            direction,
            self.size,
        );
        q
    }

    fn first_page_statement(&self) -> SelectStatement {
        self.statement(None, Direction::Forward)
    }

    fn cursor_statement(&self, cursor: &str) -> Result<SelectStatement> {
        self.plan(Start::Cursor(cursor)).map(|plan| plan.statement)
    }
}

/// A page's boundary (when it starts at a cursor), order and limit on the
/// select `q`: `size + 1` rows running `direction` in the order `columns`.
fn order_page(
    q: &mut SelectStatement,
    schema: &'static TableSchema,
    columns: &[IndexColumn],
    from: Option<&[KeyValue]>,
    direction: Direction,
    size: usize,
) {
    let backward = direction == Direction::Backward;
    if let Some(keys) = from {
        q.and_where(boundary(schema, columns, keys, backward));
    }
    for c in columns {
        let descending = c.descending != backward;
        q.order_by(
            Alias::new(c.name),
            if descending { Order::Desc } else { Order::Asc },
        );
    }
    q.limit(size as u64 + 1);
}

/// The page after a cursor in the order `columns` of `schema`'s live rows,
/// with a key of each column's type standing in for the cursor's: the
/// fixed part of every page statement, for the statement catalog. `None`
/// when a column has no such key.
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) fn catalog_statement(
    schema: &'static TableSchema,
    columns: &[IndexColumn],
) -> Option<SelectStatement> {
    let keys: Vec<KeyValue> = columns
        .iter()
        .map(|c| {
            schema
                .column(c.name)
                .and_then(|c| KeyValue::sample(c.sql_type))
        })
        .collect::<Option<_>>()?;
    let mut q = crate::query::select_schema(schema, Visibility::Live);
    order_page(&mut q, schema, columns, Some(&keys), Direction::Forward, 20);
    Some(q)
}

/// `WHERE` condition for rows strictly after (`backward` false) or before
/// the boundary `keys` in the order `columns`.
fn boundary(
    schema: &'static TableSchema,
    columns: &[IndexColumn],
    keys: &[KeyValue],
    backward: bool,
) -> Expr {
    // For each column: does "after" mean greater?
    let greater: Vec<bool> = columns.iter().map(|c| c.descending == backward).collect();
    let col = |c: &IndexColumn| Expr::col(Alias::new(c.name));
    // A key of a native enum column is compared as the enum (its order).
    let native = |i: usize| {
        let column = columns.get(i).and_then(|c| schema.column(c.name))?;
        column.sql_type.native_enum()
    };
    let val = |i: usize| Expr::val(keys[i].value(native(i)));
    if greater.iter().all(|g| *g == greater[0]) {
        let left = Expr::tuple(columns.iter().map(col));
        let right = Expr::tuple((0..keys.len()).map(val));
        return if greater[0] {
            left.gt(right)
        } else {
            left.lt(right)
        };
    }
    // Mixed directions: a > x OR (a = x AND b < y) OR ..., beside a >= x
    // so an index scan can start at the boundary.
    let strictly = |i: usize| {
        if greater[i] {
            col(&columns[i]).gt(val(i))
        } else {
            col(&columns[i]).lt(val(i))
        }
    };
    let mut any = Condition::any();
    for i in 0..columns.len() {
        let mut all = Condition::all();
        for (j, column) in columns.iter().enumerate().take(i) {
            all = all.add(col(column).eq(val(j)));
        }
        any = any.add(all.add(strictly(i)));
    }
    let lead = if greater[0] {
        col(&columns[0]).gte(val(0))
    } else {
        col(&columns[0]).lte(val(0))
    };
    Expr::from(Condition::all().add(lead).add(any))
}

/// One page of rows in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<E> {
    /// The rows, in the order's display order (also when paging backward).
    pub items: Vec<E>,
    /// The cursor of the page after this one; `Some` exactly when
    /// `has_next`.
    pub next: Option<String>,
    /// The cursor of the page before this one; `Some` exactly when
    /// `has_previous`.
    pub previous: Option<String>,
    /// Whether rows exist after this page. Checked with the extra row when
    /// the page runs forward; after a `previous` cursor it is taken as true,
    /// since the cursor's row was there when the cursor was made (no second
    /// query).
    pub has_next: bool,
    /// Whether rows exist before this page: checked with the extra row when
    /// the page runs backward, taken as true after a `next` cursor.
    pub has_previous: bool,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'c> {
    First,
    Last,
    Cursor(&'c str),
}

/// The statement of a page, and how to read its rows.
pub(crate) struct Plan {
    pub(crate) statement: SelectStatement,
    direction: Direction,
    boundary: Option<Vec<KeyValue>>,
    from_end: bool,
}

impl Keyset {
    fn plan(&self, start: Start<'_>) -> Result<Plan> {
        let (direction, boundary, from_end) = match start {
            Start::First => (Direction::Forward, None, false),
            Start::Last => (Direction::Backward, None, true),
            Start::Cursor(text) => {
                let cursor = self.decode(text).map_err(Error::InvalidCursor)?;
                (cursor.direction, Some(cursor.keys), false)
            }
        };
        Ok(Plan {
            statement: self.statement(boundary.as_deref(), direction),
            direction,
            boundary,
            from_end,
        })
    }

    /// Builds the page from the rows `plan` fetched.
    fn page(&self, plan: Plan, mut rows: Vec<Row>) -> Result<Page<Row>> {
        let more = rows.len() > self.size;
        rows.truncate(self.size);
        let backward = plan.direction == Direction::Backward;
        if backward {
            rows.reverse();
        }
        // Rows exist on the cursor's side: at least the boundary row itself
        // (or where it was).
        let beyond_cursor = plan.boundary.is_some();
        let (has_next, has_previous) = match (backward, plan.from_end) {
            (false, _) => (more, beyond_cursor),
            (true, true) => (false, more),
            (true, false) => (true, more),
        };
        let positions = self.positions();
        let keys_of = |row: &Row| -> Result<Vec<KeyValue>> {
            positions
                .iter()
                .map(|p| KeyValue::read(row, *p, self.schema))
                .collect()
        };
        // An empty page past a cursor links back through the cursor's own key.
        let first = match rows.first() {
            Some(row) => Some(keys_of(row)?),
            None => plan.boundary.clone(),
        };
        let last = match rows.last() {
            Some(row) => Some(keys_of(row)?),
            None => plan.boundary,
        };
        let link = |keys: Option<Vec<KeyValue>>, direction| -> Result<Option<String>> {
            keys.map(|keys| self.encode(&Cursor { direction, keys }))
                .transpose()
        };
        Ok(Page {
            next: if has_next {
                link(last, Direction::Forward)?
            } else {
                None
            },
            previous: if has_previous {
                link(first, Direction::Backward)?
            } else {
                None
            },
            has_next,
            has_previous,
            items: rows,
        })
    }
}
