//! Keyset (seek) pagination with opaque cursors. No `OFFSET`, anywhere.
//!
//! An entity declares the orders it pages by:
//! `#[entity(keyset(created_at desc, id desc))]`. Each declared order ends in
//! `id` (the derive appends it), so the order is total, and each is backed by
//! an index on exactly those columns and directions, partial on live rows.
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
//! wrong ([`CursorError`]), and never panics.
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

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use hmac::Mac as _;
use rust_decimal::Decimal;
use sea_query::{Alias, Condition, Expr, ExprTrait, IntoCondition, Order, SelectStatement};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::query::Scope;
use crate::schema::{IndexColumn, SqlType, TableSchema};

/// Rows per page unless [`Pager::size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page a [`Pager`] accepts unless [`Pager::max_size`] raises it.
pub const MAX_PAGE_SIZE: usize = 500;
/// The longest cursor accepted, in characters.
pub const MAX_CURSOR_LEN: usize = 4096;

const VERSION: u8 = 1;
const FLAG_BACKWARD: u8 = 1;
const FLAG_SIGNED: u8 = 2;
const HEADER_LEN: usize = 15;
const TAG_LEN: usize = 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Longer than [`MAX_CURSOR_LEN`] characters.
    #[error("the cursor is {len} characters long; at most {max} are accepted")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not URL-safe base64.
    #[error("the cursor is not URL-safe base64")]
    NotBase64,
    /// Ends before all of its parts.
    #[error("the cursor is truncated")]
    Truncated,
    /// Made by an incompatible version of the kit, or not a cursor at all.
    #[error("the cursor has an unknown format version {0}")]
    UnknownVersion(u8),
    /// The signature does not match: the cursor was altered, or signed with
    /// another key.
    #[error("the cursor's signature does not match: it was altered or signed with another key")]
    BadSignature,
    /// A signing key is configured and the cursor carries no signature.
    #[error("the cursor is not signed, and this pager requires signed cursors")]
    Unsigned,
    /// Signed, but this pager has no key to check it with.
    #[error("the cursor is signed, and this pager has no signing key to check it")]
    UnexpectedSignature,
    /// Made for another entity.
    #[error("the cursor belongs to another entity")]
    OtherEntity,
    /// Made for another order of this entity.
    #[error("the cursor belongs to another order")]
    OtherOrder,
    /// Made for another filter or scope.
    #[error("the cursor belongs to another filter")]
    OtherFilter,
    /// The right shape, with contents no cursor has.
    #[error("the cursor is malformed: {0}")]
    Malformed(&'static str),
}

/// Which way a page runs from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The rows after the boundary row, in display order.
    Forward,
    /// The rows before the boundary row, returned in display order too.
    Backward,
}

/// One sort-key value of a boundary row.
#[derive(Debug, Clone, PartialEq)]
enum KeyValue {
    Uuid(Uuid),
    Text(String),
    Bool(bool),
    SmallInt(i16),
    Integer(i32),
    BigInt(i64),
    Numeric(Decimal),
    /// Microseconds since the Unix epoch: PostgreSQL's precision.
    Timestamptz(i64),
    /// Days since 0001-01-01 (day 1).
    Date(i32),
}

impl KeyValue {
    fn tag(&self) -> u8 {
        match self {
            KeyValue::Uuid(_) => 1,
            KeyValue::Text(_) => 2,
            KeyValue::Bool(_) => 3,
            KeyValue::SmallInt(_) => 4,
            KeyValue::Integer(_) => 5,
            KeyValue::BigInt(_) => 6,
            KeyValue::Numeric(_) => 7,
            KeyValue::Timestamptz(_) => 8,
            KeyValue::Date(_) => 9,
        }
    }

    /// The value of column `position` of `row`, which has type `sql_type`.
    fn read(row: &Row, position: usize, schema: &'static TableSchema) -> Result<KeyValue> {
        let column = &schema.columns[position];
        let p = position;
        use crate::entity::decode;
        Ok(match column.sql_type {
            SqlType::Uuid => KeyValue::Uuid(decode(row, p, schema)?),
            SqlType::Text => KeyValue::Text(decode(row, p, schema)?),
            SqlType::Boolean => KeyValue::Bool(decode(row, p, schema)?),
            SqlType::SmallInt => KeyValue::SmallInt(decode(row, p, schema)?),
            SqlType::Integer => KeyValue::Integer(decode(row, p, schema)?),
            SqlType::BigInt => KeyValue::BigInt(decode(row, p, schema)?),
            SqlType::Numeric { .. } => KeyValue::Numeric(decode(row, p, schema)?),
            SqlType::Timestamptz => {
                KeyValue::Timestamptz(decode::<DateTime<Utc>>(row, p, schema)?.timestamp_micros())
            }
            SqlType::Date => KeyValue::Date(decode::<NaiveDate>(row, p, schema)?.num_days_from_ce()),
            other => {
                return Err(Error::UnsupportedValue(format!(
                    "{other} column `{}` as a sort key (use text, integers, uuid, numeric, date or timestamptz)",
                    column.name
                )))
            }
        })
    }

    fn matches(&self, sql_type: SqlType) -> bool {
        matches!(
            (self, sql_type),
            (KeyValue::Uuid(_), SqlType::Uuid)
                | (KeyValue::Text(_), SqlType::Text)
                | (KeyValue::Bool(_), SqlType::Boolean)
                | (KeyValue::SmallInt(_), SqlType::SmallInt)
                | (KeyValue::Integer(_), SqlType::Integer)
                | (KeyValue::BigInt(_), SqlType::BigInt)
                | (KeyValue::Numeric(_), SqlType::Numeric { .. })
                | (KeyValue::Timestamptz(_), SqlType::Timestamptz)
                | (KeyValue::Date(_), SqlType::Date)
        )
    }

    fn value(&self) -> sea_query::Value {
        use sea_query::Value as V;
        match self {
            KeyValue::Uuid(v) => V::Uuid(Some(*v)),
            KeyValue::Text(v) => V::String(Some(v.clone())),
            KeyValue::Bool(v) => V::Bool(Some(*v)),
            KeyValue::SmallInt(v) => V::SmallInt(Some(*v)),
            KeyValue::Integer(v) => V::Int(Some(*v)),
            KeyValue::BigInt(v) => V::BigInt(Some(*v)),
            KeyValue::Numeric(v) => V::Decimal(Some(*v)),
            // Checked when decoded: the micros fit a DateTime.
            KeyValue::Timestamptz(v) => V::ChronoDateTimeUtc(DateTime::from_timestamp_micros(*v)),
            KeyValue::Date(v) => V::ChronoDate(NaiveDate::from_num_days_from_ce_opt(*v)),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            KeyValue::Uuid(v) => out.extend_from_slice(v.as_bytes()),
            KeyValue::Text(v) => {
                out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            KeyValue::Bool(v) => out.push(u8::from(*v)),
            KeyValue::SmallInt(v) => out.extend_from_slice(&v.to_be_bytes()),
            KeyValue::Integer(v) | KeyValue::Date(v) => out.extend_from_slice(&v.to_be_bytes()),
            KeyValue::BigInt(v) | KeyValue::Timestamptz(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            KeyValue::Numeric(v) => {
                let text = v.to_string();
                out.push(text.len() as u8);
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    fn decode(input: &mut Reader<'_>) -> std::result::Result<KeyValue, CursorError> {
        let malformed = CursorError::Malformed;
        Ok(match input.byte()? {
            1 => KeyValue::Uuid(Uuid::from_bytes(input.array()?)),
            2 => {
                let len = u32::from_be_bytes(input.array()?) as usize;
                let bytes = input.take(len)?;
                KeyValue::Text(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| malformed("a text value is not UTF-8"))?,
                )
            }
            3 => match input.byte()? {
                0 => KeyValue::Bool(false),
                1 => KeyValue::Bool(true),
                _ => return Err(malformed("a boolean is neither 0 nor 1")),
            },
            4 => KeyValue::SmallInt(i16::from_be_bytes(input.array()?)),
            5 => KeyValue::Integer(i32::from_be_bytes(input.array()?)),
            6 => KeyValue::BigInt(i64::from_be_bytes(input.array()?)),
            7 => {
                let len = usize::from(input.byte()?);
                let text = std::str::from_utf8(input.take(len)?)
                    .map_err(|_| malformed("a numeric value is not text"))?;
                KeyValue::Numeric(
                    text.parse()
                        .map_err(|_| malformed("a numeric value does not parse"))?,
                )
            }
            8 => {
                let micros = i64::from_be_bytes(input.array()?);
                DateTime::from_timestamp_micros(micros)
                    .ok_or(malformed("a timestamp is out of range"))?;
                KeyValue::Timestamptz(micros)
            }
            9 => {
                let days = i32::from_be_bytes(input.array()?);
                NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or(malformed("a date is out of range"))?;
                KeyValue::Date(days)
            }
            _ => return Err(malformed("unknown value type")),
        })
    }
}

/// Bounds-checked reading of cursor bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], CursorError> {
        if self.0.len() < n {
            return Err(CursorError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> std::result::Result<u8, CursorError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], CursorError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// FNV-1a, 32 bits: a fingerprint that stays the same across processes,
/// builds and platforms (cursors outlive deployments).
fn fingerprint(parts: &[&[u8]]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

/// A decoded cursor: where the page starts and which way it runs.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    direction: Direction,
    keys: Vec<KeyValue>,
}

/// How to page through `E`: which declared order, how many rows a page
/// holds, which rows (scope and filter), and whether cursors are signed.
///
/// Cursors are only valid with a pager of the same entity, order, scope and
/// filter (the filter's values included); the page size may differ.
pub struct Pager<E> {
    order: usize,
    size: usize,
    max_size: usize,
    scope: Scope,
    filter: Option<Condition>,
    /// The fingerprint of scope and filter, computed when they are set (an
    /// unsupported filter value is reported when a page runs).
    filter_print: std::result::Result<u32, String>,
    key: Option<Vec<u8>>,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Pager<E> {
    fn clone(&self) -> Self {
        Pager {
            order: self.order,
            size: self.size,
            max_size: self.max_size,
            scope: self.scope,
            filter: self.filter.clone(),
            filter_print: self.filter_print.clone(),
            key: self.key.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Pager<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("order", &self.order)
            .field("size", &self.size)
            .field("max_size", &self.max_size)
            .field("scope", &self.scope)
            .field("filtered", &self.filter.is_some())
            .field("signed", &self.key.is_some())
            .finish()
    }
}

impl<E: Entity> Pager<E> {
    /// Pages of live rows in the entity's first declared order,
    /// [`DEFAULT_PAGE_SIZE`] rows each. [`Error::NoKeyset`] if the entity
    /// declares no `keyset(...)`.
    pub fn new() -> Result<Self> {
        if E::SCHEMA.keysets.is_empty() {
            return Err(Error::NoKeyset {
                table: E::SCHEMA.name,
            });
        }
        Ok(Pager {
            order: 0,
            size: DEFAULT_PAGE_SIZE,
            max_size: MAX_PAGE_SIZE,
            scope: Scope::Live,
            filter: None,
            filter_print: Ok(0),
            key: None,
            entity: PhantomData,
        }
        .with_filter_print())
    }

    /// Uses the entity's `index`-th declared order (0 is the first).
    pub fn order(mut self, index: usize) -> Result<Self> {
        if index >= E::SCHEMA.keysets.len() {
            return Err(Error::NoKeyset {
                table: E::SCHEMA.name,
            });
        }
        self.order = index;
        Ok(self)
    }

    /// Raises or lowers the largest page size [`size`](Self::size) accepts.
    pub fn max_size(mut self, max: usize) -> Self {
        self.max_size = max;
        self
    }

    /// Rows per page: from 1 to the maximum ([`MAX_PAGE_SIZE`] by default).
    /// A size outside that range is [`Error::PageSize`], not silently clamped,
    /// so a client asking for too much learns it.
    pub fn size(mut self, size: usize) -> Result<Self> {
        if size == 0 || size > self.max_size {
            return Err(Error::PageSize {
                requested: size,
                max: self.max_size,
            });
        }
        self.size = size;
        Ok(self)
    }

    /// Only rows matching `condition` (ANDed with the scope). Part of the
    /// cursor's fingerprint: a cursor made under another filter is refused.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.filter = Some(condition.into_condition());
        self.with_filter_print()
    }

    /// Which rows: [`Scope::Live`] (the default, served by the partial
    /// keyset index), [`Scope::WithDeleted`] or [`Scope::OnlyDeleted`].
    pub fn scope(mut self, scope: Scope) -> Self {
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

    /// Signs cursors with HMAC-SHA256 under `key`, and accepts only cursors
    /// signed with it.
    pub fn signing_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        self.size
    }

    /// The order's columns, `id` last.
    pub fn columns(&self) -> &'static [IndexColumn] {
        E::SCHEMA.keysets[self.order]
    }

    fn positions(&self) -> Vec<usize> {
        self.columns()
            .iter()
            .map(|c| {
                E::SCHEMA
                    .columns
                    .iter()
                    .position(|s| s.name == c.name)
                    .unwrap_or(0)
            })
            .collect()
    }

    fn entity_print(&self) -> u32 {
        fingerprint(&[E::SCHEMA.name.as_bytes()])
    }

    fn order_print(&self) -> u32 {
        let mut parts: Vec<&[u8]> = vec![E::SCHEMA.name.as_bytes()];
        for c in self.columns() {
            parts.push(c.name.as_bytes());
            parts.push(if c.descending { b"desc" } else { b"asc" });
        }
        fingerprint(&parts)
    }

    fn compute_filter_print(&self) -> Result<u32> {
        let scope: &[u8] = match self.scope {
            Scope::Live => b"live",
            Scope::WithDeleted => b"with_deleted",
            Scope::OnlyDeleted => b"only_deleted",
        };
        let Some(filter) = &self.filter else {
            return Ok(fingerprint(&[scope]));
        };
        let (sql, values) = sea_query::Query::select()
            .cond_where(filter.clone())
            .build(sea_query::PostgresQueryBuilder);
        // Values by their wire encoding, which does not change between builds.
        let mut encoded = Vec::new();
        for (param, ty) in crate::query::bind_values(values)? {
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

    fn mac(&self, key: &[u8], data: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(data);
        mac
    }

    fn encode(&self, cursor: &Cursor) -> Result<String> {
        let mut out = Vec::with_capacity(64);
        out.push(VERSION);
        let mut flags = 0;
        if cursor.direction == Direction::Backward {
            flags |= FLAG_BACKWARD;
        }
        if self.key.is_some() {
            flags |= FLAG_SIGNED;
        }
        out.push(flags);
        out.extend_from_slice(&self.entity_print().to_be_bytes());
        out.extend_from_slice(&self.order_print().to_be_bytes());
        out.extend_from_slice(&self.filter_print()?.to_be_bytes());
        out.push(cursor.keys.len() as u8);
        for key in &cursor.keys {
            key.encode(&mut out);
        }
        if let Some(key) = &self.key {
            let tag = self.mac(key, &out).finalize().into_bytes();
            out.extend_from_slice(&tag);
        }
        let text = URL_SAFE_NO_PAD.encode(&out);
        if text.len() > MAX_CURSOR_LEN {
            return Err(Error::InvalidCursor(CursorError::TooLong {
                len: text.len(),
                max: MAX_CURSOR_LEN,
            }));
        }
        Ok(text)
    }

    fn decode(&self, text: &str) -> std::result::Result<Cursor, CursorError> {
        if text.len() > MAX_CURSOR_LEN {
            return Err(CursorError::TooLong {
                len: text.len(),
                max: MAX_CURSOR_LEN,
            });
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CursorError::NotBase64)?;
        let mut header = Reader(&bytes);
        let version = header.byte()?;
        if version != VERSION {
            return Err(CursorError::UnknownVersion(version));
        }
        let flags = header.byte()?;
        if flags & !(FLAG_BACKWARD | FLAG_SIGNED) != 0 {
            return Err(CursorError::Malformed("unknown flags"));
        }
        let body = match (flags & FLAG_SIGNED != 0, &self.key) {
            (true, Some(key)) => {
                if bytes.len() < HEADER_LEN + TAG_LEN {
                    return Err(CursorError::Truncated);
                }
                let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
                self.mac(key, body)
                    .verify_slice(tag)
                    .map_err(|_| CursorError::BadSignature)?;
                body
            }
            (false, Some(_)) => return Err(CursorError::Unsigned),
            (true, None) => return Err(CursorError::UnexpectedSignature),
            (false, None) => &bytes[..],
        };
        let mut input = Reader(body);
        input.take(2)?;
        let entity = u32::from_be_bytes(input.array()?);
        let order = u32::from_be_bytes(input.array()?);
        let filter = u32::from_be_bytes(input.array()?);
        if entity != self.entity_print() {
            return Err(CursorError::OtherEntity);
        }
        if order != self.order_print() {
            return Err(CursorError::OtherOrder);
        }
        if Ok(filter) != self.filter_print().map_err(|_| ()) {
            return Err(CursorError::OtherFilter);
        }
        let count = usize::from(input.byte()?);
        let columns = self.columns();
        if count != columns.len() {
            return Err(CursorError::Malformed("wrong number of sort-key values"));
        }
        let positions = self.positions();
        let mut keys = Vec::with_capacity(count);
        for position in positions {
            let key = KeyValue::decode(&mut input)?;
            if !key.matches(E::SCHEMA.columns[position].sql_type) {
                return Err(CursorError::Malformed(
                    "a sort-key value has the wrong type",
                ));
            }
            keys.push(key);
        }
        if !input.0.is_empty() {
            return Err(CursorError::Malformed("bytes after the last value"));
        }
        Ok(Cursor {
            direction: if flags & FLAG_BACKWARD != 0 {
                Direction::Backward
            } else {
                Direction::Forward
            },
            keys,
        })
    }

    /// Checks a cursor without running anything: `Ok` with its direction if
    /// this pager would accept it.
    pub fn check_cursor(&self, cursor: &str) -> Result<Direction> {
        self.decode(cursor)
            .map(|c| c.direction)
            .map_err(Error::InvalidCursor)
    }

    /// The statement of one page: from the start (`None`) or from a
    /// boundary, running `direction`, `size + 1` rows.
    fn statement(&self, from: Option<&[KeyValue]>, direction: Direction) -> SelectStatement {
        let columns = self.columns();
        let mut q = crate::query::select::<E>(self.scope);
        if let Some(filter) = &self.filter {
            q.cond_where(filter.clone());
        }
        let backward = direction == Direction::Backward;
        if let Some(keys) = from {
            q.and_where(boundary(columns, keys, backward));
        }
        for c in columns {
            let descending = c.descending != backward;
            q.order_by(
                Alias::new(c.name),
                if descending { Order::Desc } else { Order::Asc },
            );
        }
        q.limit(self.size as u64 + 1);
        q
    }

    /// The SQL of the first page (for `EXPLAIN` and logs). Values, if any,
    /// are bound separately when the page runs.
    pub fn first_page_statement(&self) -> SelectStatement {
        self.statement(None, Direction::Forward)
    }

    /// The statement of the page a cursor points to (for `EXPLAIN` and logs);
    /// [`Error::InvalidCursor`] for a cursor this pager cannot use.
    pub fn cursor_statement(&self, cursor: &str) -> Result<SelectStatement> {
        self.plan(Start::Cursor(cursor)).map(|plan| plan.statement)
    }
}

/// `WHERE` condition for rows strictly after (`backward` false) or before
/// the boundary `keys` in the order `columns`.
fn boundary(columns: &[IndexColumn], keys: &[KeyValue], backward: bool) -> Expr {
    // For each column: does "after" mean greater?
    let greater: Vec<bool> = columns.iter().map(|c| c.descending == backward).collect();
    let col = |c: &IndexColumn| Expr::col(Alias::new(c.name));
    let val = |k: &KeyValue| Expr::val(k.value());
    if greater.iter().all(|g| *g == greater[0]) {
        let left = Expr::tuple(columns.iter().map(col));
        let right = Expr::tuple(keys.iter().map(val));
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
            col(&columns[i]).gt(val(&keys[i]))
        } else {
            col(&columns[i]).lt(val(&keys[i]))
        }
    };
    let mut any = Condition::any();
    for i in 0..columns.len() {
        let mut all = Condition::all();
        for j in 0..i {
            all = all.add(col(&columns[j]).eq(val(&keys[j])));
        }
        any = any.add(all.add(strictly(i)));
    }
    let lead = if greater[0] {
        col(&columns[0]).gte(val(&keys[0]))
    } else {
        col(&columns[0]).lte(val(&keys[0]))
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

impl<E: Entity> Pager<E> {
    pub(crate) fn plan(&self, start: Start<'_>) -> Result<Plan> {
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
    pub(crate) fn page(&self, plan: Plan, mut rows: Vec<Row>) -> Result<Page<E>> {
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
                .map(|p| KeyValue::read(row, *p, E::SCHEMA))
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
            items: rows.iter().map(E::from_row).collect::<Result<_>>()?,
        })
    }
}
