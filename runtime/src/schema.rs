//! The static description of an entity's table.
//!
//! `#[derive(Entity)]` writes one [`TableSchema`] per entity as a constant.
//! It is plain data: every name in it was generated and checked at compile
//! time, and everything the kit does with a table (DDL, statements, paging)
//! is ordinary runtime code driven by it.

use std::fmt;

pub use ordinance_naming::{NameKind, Naming};

/// A table: its columns and the constraints and indexes the conventions imply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// The PostgreSQL schema the table lives in (`#[entity(schema = "auth")]`);
    /// `None` is `public`.
    pub schema: Option<&'static str>,
    /// Table name (`users`).
    pub name: &'static str,
    /// Name of the Rust struct the table was derived from (`User`).
    pub struct_name: &'static str,
    /// The struct's doc comment, rendered as `COMMENT ON TABLE`.
    pub comment: Option<&'static str>,
    /// Columns, in field order.
    pub columns: &'static [Column],
    /// Name of the primary key constraint on `id` (`users_pkey`).
    pub primary_key: &'static str,
    /// Foreign keys.
    pub foreign_keys: &'static [ForeignKey],
    /// Check constraints.
    pub checks: &'static [Check],
    /// Indexes, including the ones backing foreign keys and keyset orders.
    pub indexes: &'static [Index],
    /// Declared keyset orders; each ends in `id`.
    pub keysets: &'static [&'static [IndexColumn]],
    /// Convention rules waived for the whole table, with the reason.
    pub waivers: &'static [Waiver],
    /// Whether rows belong to tenants (`#[entity(tenant)]`): `tenant_id`
    /// comes from the transaction's tenant, and row-level security shows
    /// and accepts only that tenant's rows.
    pub tenant: bool,
    /// Whether every version of every row is kept (`#[entity(history)]`)
    /// in the table [`history::table_of`](crate::history) describes,
    /// written by a trigger on every change, whoever makes it.
    pub history: bool,
    /// Whether it is an aggregate root (`#[entity(aggregate_root)]`): a
    /// write to a row of a table whose foreign key to it is `aggregate`
    /// bumps its `version` and `updated_at`, in the same transaction.
    pub aggregate_root: bool,
    /// Whether it is a transactional outbox's table (`#[entity(outbox)]`):
    /// [`Repo::publish`](crate::repo::Repo::publish) writes events into it,
    /// an insert notifies its channel, and an
    /// [`outbox::Relay`](crate::outbox::Relay) delivers and deletes them.
    pub outbox: bool,
    /// How the table is split into time partitions
    /// (`#[entity(partitioned(...))]`): by range of `id`, whose UUIDv7
    /// values begin with their creation time.
    pub partitioned: Option<&'static Partitioning>,
    /// The team's conventions the entity was compiled under
    /// (`[…metadata.ordinance]`; [`Conventions::DEFAULT`] without a
    /// policy): its names, how its ids are made, how bounded text is
    /// stored — and what the audit and `adopt` expect of a live database.
    pub conventions: &'static Conventions,
}

/// A time-partitioned table (`#[entity(partitioned(interval = "1 month",
/// keep = "13 months"))]`): partitioned by range of `id` — UUIDv7 ids
/// begin with the millisecond they were made, so an id range is a time
/// range, the primary key stays `id`, and a get by id reads one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partitioning {
    /// The span of time each partition holds.
    pub interval: Period,
    /// How long a partition is kept after its span ends (`None`: forever).
    pub keep: Option<Period>,
}

/// A span of calendar time: `count` days, weeks, months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// How many units.
    pub count: u32,
    /// Which unit.
    pub unit: PeriodUnit,
}

/// The unit of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeriodUnit {
    /// Days (UTC).
    Day,
    /// Weeks, from Monday (UTC).
    Week,
    /// Calendar months (UTC).
    Month,
    /// Calendar years (UTC).
    Year,
}

/// The parts of the rule book a team sets for itself in Cargo's metadata
/// (`[workspace.metadata.ordinance]`, overridden by
/// `[package.metadata.ordinance]`), as the derive read them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Conventions {
    /// Templates of every generated name (`naming`).
    pub naming: Naming,
    /// How new rows' ids are made (`ids.generate`).
    pub ids: IdGeneration,
    /// How text with a `max_len` is stored (`types.bounded_text`).
    pub bounded_text: BoundedText,
    /// How the crate's `DbEnum`s are stored (`types.enums`).
    pub enums: EnumStorage,
}

impl Conventions {
    /// The kit's own rule book: PostgreSQL-style names, UUIDv7 ids, `TEXT`
    /// with a length check.
    pub const DEFAULT: Conventions = Conventions {
        naming: Naming::POSTGRES,
        ids: IdGeneration::V7,
        bounded_text: BoundedText::Check,
        enums: EnumStorage::Check,
    };

    /// Conventions of the parts given.
    pub const fn new(naming: Naming, ids: IdGeneration, bounded_text: BoundedText) -> Self {
        Conventions {
            naming,
            ids,
            bounded_text,
            enums: EnumStorage::Check,
        }
    }

    /// These conventions with `DbEnum`s stored as `enums` says.
    pub const fn with_enums(mut self, enums: EnumStorage) -> Self {
        self.enums = enums;
        self
    }
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions::DEFAULT
    }
}

/// How a text column with a `max_len` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BoundedText {
    /// `TEXT` with `CHECK (char_length(col) <= n)` (the default): changing
    /// the limit swaps a constraint instead of rewriting the table.
    #[default]
    Check,
    /// `VARCHAR(n)`, for teams whose guidelines store bounded text so
    /// (`min_len` stays a check).
    Varchar,
}

/// How a `DbEnum` is stored (`types.enums`); the policy of the crate
/// that defines the enum decides, so an enum is one type in the database
/// whichever entities use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EnumStorage {
    /// `TEXT` with `CHECK (col IN (...))` (the default): adding or
    /// removing a value swaps a constraint.
    #[default]
    Check,
    /// A native `CREATE TYPE … AS ENUM`, named after the Rust enum in
    /// snake_case: a value is added with `ALTER TYPE … ADD VALUE` (which
    /// the generated migrations write); removing one is a migration by hand.
    Native,
}

/// How the kit makes a new row's id, application-side (the column's
/// `DEFAULT gen_random_uuid()` serves rows inserted by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IdGeneration {
    /// UUIDv7 (the default): time-ordered, so new rows land at the end of
    /// the primary key's index instead of on random pages, and an id tells
    /// when its row was made.
    #[default]
    V7,
    /// UUIDv4: random, for teams whose ids must not reveal when a row was
    /// made (at the cost of index locality on large tables).
    V4,
}

impl IdGeneration {
    /// A new id.
    pub fn new_id(self) -> uuid::Uuid {
        match self {
            IdGeneration::V7 => uuid::Uuid::now_v7(),
            IdGeneration::V4 => uuid::Uuid::new_v4(),
        }
    }
}

/// One column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column's previous name (`#[column(renamed_from = "...")]`): the
    /// migration generator renames it instead of dropping and adding.
    pub renamed_from: Option<&'static str>,
    /// Column name (`display_name`).
    pub name: &'static str,
    /// Name of the Rust field (`display_name`, or `r#type` as `type`).
    pub field: &'static str,
    /// PostgreSQL type.
    pub sql_type: SqlType,
    /// Whether NULL is allowed (the field is an `Option`).
    pub nullable: bool,
    /// Value the database fills in when the insert gives none
    /// (`#[column(default = ...)]`, or one the conventions fix).
    pub default: Option<ColumnDefault>,
    /// Value existing rows take when the column becomes NOT NULL without a
    /// default (`#[column(backfill = ...)]`): the generated backfill sets it
    /// in batches.
    pub backfill: Option<ColumnDefault>,
    /// The field's doc comment, rendered as `COMMENT ON COLUMN`.
    pub comment: Option<&'static str>,
    /// Convention rules waived for this column, with the reason.
    pub waivers: &'static [Waiver],
    /// Personal data (`#[column(sensitive)]`): its values never appear in
    /// the entity's `Debug` output, and its comment says so.
    pub sensitive: bool,
}

/// The PostgreSQL types the kit stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// `UUID`
    Uuid,
    /// `TEXT`
    Text,
    /// `BOOLEAN`
    Boolean,
    /// `SMALLINT`
    SmallInt,
    /// `INTEGER`
    Integer,
    /// `BIGINT`
    BigInt,
    /// `NUMERIC` or `NUMERIC(precision, scale)`
    Numeric {
        /// Total number of significant digits.
        precision: Option<u16>,
        /// Digits after the decimal point.
        scale: Option<u16>,
    },
    /// `REAL`; only with a `float` waiver
    Real,
    /// `DOUBLE PRECISION`; only with a `float` waiver
    DoublePrecision,
    /// `TIMESTAMPTZ`
    Timestamptz,
    /// `DATE`
    Date,
    /// `JSONB`
    Jsonb,
    /// An array of the element type: `INTEGER[]`, `NUMERIC(12,2)[]`,
    /// `TEXT[]`. Elements may be NULL (`Vec<Option<T>>`); arrays of arrays
    /// are not stored.
    Array(&'static SqlType),
    /// `BYTEA`
    Bytea,
    /// A native enum type (`CREATE TYPE … AS ENUM`), for a `DbEnum` whose
    /// crate's policy sets `types.enums = "native"`. Values travel as text
    /// and the kit's statements cast them to the type.
    Enum(&'static EnumType),
}

/// A native enum type: its name and its values in sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumType {
    /// The type's name: the Rust enum's name in snake_case
    /// (`TicketStatus` is `ticket_status`), created on the search path
    /// (`public`), where every table's columns can name it.
    pub name: &'static str,
    /// The stored values, in declaration order: the type's sort order.
    pub values: &'static [&'static str],
}

impl SqlType {
    /// The type as written in DDL, e.g. `NUMERIC(12,2)`.
    pub fn sql(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            SqlType::Uuid => Borrowed("UUID"),
            SqlType::Text => Borrowed("TEXT"),
            SqlType::Boolean => Borrowed("BOOLEAN"),
            SqlType::SmallInt => Borrowed("SMALLINT"),
            SqlType::Integer => Borrowed("INTEGER"),
            SqlType::BigInt => Borrowed("BIGINT"),
            SqlType::Numeric {
                precision: Some(p),
                scale: Some(s),
            } => Owned(format!("NUMERIC({p},{s})")),
            SqlType::Numeric {
                precision: Some(p),
                scale: None,
            } => Owned(format!("NUMERIC({p})")),
            SqlType::Numeric { .. } => Borrowed("NUMERIC"),
            SqlType::Real => Borrowed("REAL"),
            SqlType::DoublePrecision => Borrowed("DOUBLE PRECISION"),
            SqlType::Timestamptz => Borrowed("TIMESTAMPTZ"),
            SqlType::Date => Borrowed("DATE"),
            SqlType::Jsonb => Borrowed("JSONB"),
            SqlType::Array(element) => Owned(format!("{}[]", element.sql())),
            SqlType::Bytea => Borrowed("BYTEA"),
            // A snake_case identifier the derive checked: quoted as is.
            SqlType::Enum(e) => Owned(format!("\"{}\"", e.name)),
        }
    }

    /// The native enum type, for [`SqlType::Enum`].
    pub fn native_enum(&self) -> Option<&'static EnumType> {
        match self {
            SqlType::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// Parameter `$n` of a statement, bound at [`wire_type`](Self::wire_type):
    /// cast to the column's type where the wire type is not it (a native
    /// enum travels as text).
    pub(crate) fn param(&self, n: usize) -> String {
        match self.native_enum() {
            Some(_) => format!("${n}::{}", self.sql()),
            None => format!("${n}"),
        }
    }
}

impl SqlType {
    /// The type on the wire, for typed statements and binary `COPY`.
    pub fn wire_type(&self) -> tokio_postgres::types::Type {
        use tokio_postgres::types::Type;
        match self {
            SqlType::Uuid => Type::UUID,
            SqlType::Text => Type::TEXT,
            SqlType::Boolean => Type::BOOL,
            SqlType::SmallInt => Type::INT2,
            SqlType::Integer => Type::INT4,
            SqlType::BigInt => Type::INT8,
            SqlType::Numeric { .. } => Type::NUMERIC,
            SqlType::Real => Type::FLOAT4,
            SqlType::DoublePrecision => Type::FLOAT8,
            SqlType::Timestamptz => Type::TIMESTAMPTZ,
            SqlType::Date => Type::DATE,
            SqlType::Jsonb => Type::JSONB,
            SqlType::Bytea => Type::BYTEA,
            // Sent as its text (the type's oid differs per database); the
            // statement casts it.
            SqlType::Enum(_) => Type::TEXT,
            SqlType::Array(element) => match element {
                SqlType::Uuid => Type::UUID_ARRAY,
                SqlType::Text | SqlType::Enum(_) => Type::TEXT_ARRAY,
                SqlType::Boolean => Type::BOOL_ARRAY,
                SqlType::SmallInt => Type::INT2_ARRAY,
                SqlType::Integer => Type::INT4_ARRAY,
                SqlType::BigInt => Type::INT8_ARRAY,
                SqlType::Numeric { .. } => Type::NUMERIC_ARRAY,
                SqlType::Real => Type::FLOAT4_ARRAY,
                SqlType::DoublePrecision => Type::FLOAT8_ARRAY,
                SqlType::Timestamptz => Type::TIMESTAMPTZ_ARRAY,
                SqlType::Date => Type::DATE_ARRAY,
                SqlType::Jsonb => Type::JSONB_ARRAY,
                SqlType::Bytea => Type::BYTEA_ARRAY,
                // Not stored (no `ColumnType` builds one); PostgreSQL
                // itself names every array type by its element's.
                SqlType::Array(_) => Type::ANYARRAY,
            },
        }
    }

    /// The element type of an array type, `None` for other types.
    pub fn element(&self) -> Option<&'static SqlType> {
        match self {
            SqlType::Array(element) => Some(element),
            _ => None,
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql())
    }
}

/// A column default (or backfill value): a typed constant checked against
/// the field's type at compile time, or one the conventions fix; never free
/// SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnDefault {
    /// `gen_random_uuid()`
    RandomUuid,
    /// A UUIDv7 made by the server: the current millisecond
    /// (`clock_timestamp()`), then random bits — a time-partitioned
    /// table's `id`, so a row inserted by hand without one lands in the
    /// partition of now.
    TimeUuid,
    /// `now()`
    Now,
    /// An integer literal.
    Integer(i64),
    /// A decimal literal, as written (`12.50`).
    Decimal(&'static str),
    /// A text literal (also an enum's stored value).
    Text(&'static str),
    /// `true` or `false`.
    Boolean(bool),
    /// `'{}'` (an empty JSON object)
    EmptyJsonObject,
    /// `'[]'` (an empty JSON array)
    EmptyJsonArray,
    /// `'{}'` (an empty array)
    EmptyArray,
    /// A UUID read from a transaction-local setting, NULL when it is not
    /// set: [`TENANT_SETTING`] for `tenant_id`, [`ACTOR_SETTING`] for
    /// `created_by` / `updated_by`.
    Setting(&'static str),
}

impl ColumnDefault {
    /// The default as written in DDL.
    pub fn sql(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            ColumnDefault::RandomUuid => Borrowed("gen_random_uuid()"),
            ColumnDefault::TimeUuid => Borrowed(
                "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING \
                 substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) \
                 FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid",
            ),
            ColumnDefault::Now => Borrowed("now()"),
            ColumnDefault::Integer(i) => Owned(i.to_string()),
            ColumnDefault::Decimal(d) => Borrowed(d),
            ColumnDefault::Text(t) => Owned(format!("'{}'", t.replace('\'', "''"))),
            ColumnDefault::Boolean(true) => Borrowed("true"),
            ColumnDefault::Boolean(false) => Borrowed("false"),
            ColumnDefault::EmptyJsonObject => Borrowed("'{}'::jsonb"),
            ColumnDefault::EmptyJsonArray => Borrowed("'[]'::jsonb"),
            ColumnDefault::EmptyArray => Borrowed("'{}'"),
            ColumnDefault::Setting(name) => Owned(setting_uuid(name)),
        }
    }

    /// Whether a column added with this default gives the rows already
    /// there the value a new row would get: a constant or `now()`. Not
    /// `gen_random_uuid()` or a time UUID (computed row by row: a rewrite) and not a
    /// setting (the migration's session holds none: they would get NULL).
    pub fn fills_existing_rows(&self) -> bool {
        !matches!(
            self,
            ColumnDefault::RandomUuid | ColumnDefault::TimeUuid | ColumnDefault::Setting(_)
        )
    }
}

/// A `FOREIGN KEY (column) REFERENCES table (id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name (`posts_author_id_fkey`).
    pub name: &'static str,
    /// The referencing column.
    pub column: &'static str,
    /// The referenced table; the referenced column is always its `id`.
    pub references: &'static str,
    /// The PostgreSQL schema of the referenced table; `None` is `public`.
    pub references_schema: Option<&'static str>,
    /// What deleting the referenced row does.
    pub on_delete: OnDelete,
    /// Both tables are tenant tables: the key is `(tenant_id, column)
    /// REFERENCES table (tenant_id, id)`, so a row can only reference — and
    /// a delete only cascade into — rows of its own tenant. `SET NULL`
    /// empties `column` alone (`ON DELETE SET NULL (column)`), keeping the
    /// row's tenant.
    pub within_tenant: bool,
    /// The referenced table is this row's aggregate root
    /// (`#[column(references = Root, aggregate)]`): a trigger bumps its
    /// `version` and `updated_at` on every write to the row.
    pub aggregate: bool,
}

/// The `ON DELETE` action of a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Refuse to delete a row that is still referenced (the default).
    Restrict,
    /// Delete the referencing rows too.
    Cascade,
    /// Set the referencing column to NULL.
    SetNull,
}

impl OnDelete {
    /// The action as written in DDL.
    pub fn sql(&self) -> &'static str {
        match self {
            OnDelete::Restrict => "RESTRICT",
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

/// A named `CHECK` constraint on one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Constraint name (`users_email_max_length`).
    pub name: &'static str,
    /// The checked column.
    pub column: &'static str,
    /// What is checked.
    pub kind: CheckKind,
}

/// What a [`Check`] tests. Always typed, never free SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckKind {
    /// `char_length(col) >= n`
    MinLength(u32),
    /// `char_length(col) <= n`
    MaxLength(u32),
    /// `col >= n`
    Min(i64),
    /// `col <= n`
    Max(i64),
    /// `col IN (...)`; a check with an empty list is not rendered (the
    /// column's type allows any value).
    OneOf(&'static [&'static str]),
    /// `array_position(col, NULL) IS NULL`: an array column of `Vec<T>`
    /// holds no NULL element (`Vec<Option<T>>` columns may).
    NoNullElements,
}

impl TableSchema {
    /// A column's type as the table stores it: its [`SqlType`], or
    /// `VARCHAR(n)` for text with a `max_len` under
    /// [`BoundedText::Varchar`].
    pub fn column_type(&self, c: &Column) -> std::borrow::Cow<'static, str> {
        match self.varchar_limit(c) {
            Some(n) => format!("VARCHAR({n})").into(),
            None => c.sql_type.sql(),
        }
    }

    /// The checks the database holds: not a `OneOf` that lists no values
    /// or whose column's native enum type holds the list, and not a
    /// `max_len` the column's `VARCHAR(n)` already enforces.
    pub fn rendered_checks(&self) -> impl Iterator<Item = &'static Check> + '_ {
        self.checks.iter().filter(move |k| {
            let column = self.column(k.column);
            k.is_rendered()
                && !(matches!(k.kind, CheckKind::MaxLength(_))
                    && column.is_some_and(|c| self.varchar_limit(c).is_some()))
                && !(matches!(k.kind, CheckKind::OneOf(_))
                    && column.is_some_and(|c| c.sql_type.native_enum().is_some()))
        })
    }

    /// The native enum types the table's columns use, each once, in column
    /// order.
    pub fn enum_types(&self) -> Vec<&'static EnumType> {
        let mut out: Vec<&'static EnumType> = Vec::new();
        for c in self.columns {
            if let Some(e) = c.sql_type.native_enum() {
                if !out.iter().any(|o| o.name == e.name) {
                    out.push(e);
                }
            }
        }
        out
    }

    /// The `n` of a text column stored as `VARCHAR(n)`.
    fn varchar_limit(&self, c: &Column) -> Option<u32> {
        if self.conventions.bounded_text != BoundedText::Varchar || c.sql_type != SqlType::Text {
            return None;
        }
        self.checks.iter().find_map(|k| match k.kind {
            CheckKind::MaxLength(n) if k.column == c.name => Some(n),
            _ => None,
        })
    }
}

impl Check {
    /// Whether the constraint exists in the database (a `OneOf` of a type that
    /// lists no values does not).
    pub fn is_rendered(&self) -> bool {
        !matches!(self.kind, CheckKind::OneOf(values) if values.is_empty())
    }
}

/// An index; partial on live rows when `live_only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// Index name (`idx_posts_author_id`).
    pub name: &'static str,
    /// Indexed columns in order.
    pub columns: &'static [IndexColumn],
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// `WHERE deleted_at IS NULL`.
    pub live_only: bool,
    /// The access method: B-tree, or GIN for JSONB and arrays.
    pub method: IndexMethod,
    /// `INCLUDE (...)`: columns stored in the index for index-only scans,
    /// not keyed.
    pub include: &'static [&'static str],
    /// Conditions the indexed rows meet besides being live, ANDed:
    /// `WHERE "status" = 'active'`.
    pub predicate: &'static [IndexCondition],
}

/// How an index is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexMethod {
    /// The default B-tree: equality, ranges and order.
    BTree,
    /// `USING gin`: containment and key existence in JSONB and arrays.
    Gin,
}

/// One condition of a partial index: `column = value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCondition {
    /// The compared column.
    pub column: &'static str,
    /// The constant it equals (an enum's stored value, or a boolean).
    pub value: ColumnDefault,
}

/// One column of an index or keyset order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexColumn {
    /// Column name.
    pub name: &'static str,
    /// Sorted descending.
    pub descending: bool,
    /// A function of the column indexed instead of the column itself.
    pub function: Option<IndexFunction>,
}

/// A function of a column an index keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexFunction {
    /// `lower(column)`: case-insensitive lookups and uniqueness.
    Lower,
    /// A field of a JSONB column (`json(settings, "theme")`), as text
    /// (`("settings" ->> 'theme')`) or cast to a type
    /// (`(("settings" ->> 'max_tokens')::INTEGER)`): the expression
    /// [`query::json`](crate::query::json) builds, so filters on the field
    /// use the index.
    JsonField {
        /// The keys from the column to the field (`["limits", "max"]` for
        /// `"settings" -> 'limits' ->> 'max'`).
        path: &'static [&'static str],
        /// `Text`, or the type the text is cast to: `SmallInt`, `Integer`,
        /// `BigInt`, `Numeric` or `Boolean`.
        as_type: SqlType,
    },
}

/// A convention rule waived on purpose, with the reason written in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiver {
    /// The waived rule (`soft_delete`, `version`, `plural`, `float`,
    /// `foreign_key`, `boolean_name`).
    pub rule: &'static str,
    /// Why the rule does not apply.
    pub reason: &'static str,
}

/// How a waiver is written into a table's or column's `COMMENT`, one line
/// each: `Convention waived: soft_delete (append-only ledger)`. The audit
/// reads these lines back, so a waived rule is not reported.
pub const WAIVER_LINE: &str = "Convention waived: ";

/// The waivers recorded in a comment, as `(rule, reason)` pairs, and the
/// comment without them (the documentation part, if any).
pub fn split_waivers(comment: &str) -> (Option<String>, Vec<(String, String)>) {
    let mut doc = Vec::new();
    let mut waivers = Vec::new();
    for line in comment.lines() {
        let waiver = line.strip_prefix(WAIVER_LINE).and_then(|rest| {
            let (rule, reason) = rest.split_once(" (")?;
            Some((rule.to_owned(), reason.strip_suffix(')')?.to_owned()))
        });
        match waiver {
            Some(w) => waivers.push(w),
            None => doc.push(line),
        }
    }
    let doc = doc.join("\n");
    ((!doc.is_empty()).then_some(doc), waivers)
}

/// The transaction-local setting holding the tenant a transaction works for
/// (`set_config('app.tenant_id', …, true)`): tenant tables' row-level
/// security policies compare `tenant_id` with it, and new rows take it.
pub const TENANT_SETTING: &str = "app.tenant_id";

/// The transaction-local setting holding who makes a transaction's changes
/// (`set_config('app.actor_id', …, true)`): what `created_by` and
/// `updated_by` record.
pub const ACTOR_SETTING: &str = "app.actor_id";

/// `id` and the columns the database maintains.
pub const AUDIT_COLUMNS: [&str; 5] = ordinance_naming::AUDIT_COLUMNS;

/// The columns recording who made a change, from [`ACTOR_SETTING`]: who
/// created the row, who last changed it, who soft-deleted it.
pub const ACTOR_COLUMNS: [&str; 3] = ordinance_naming::ACTOR_COLUMNS;

/// `NULLIF(current_setting('name', true), '')::uuid`: the setting's UUID, or
/// NULL when it is not set (an unknown setting reads as NULL, and one set
/// earlier in the session and since ended as the empty string).
pub fn setting_uuid(name: &str) -> String {
    format!(
        "NULLIF(current_setting('{}', true), '')::uuid",
        name.replace('\'', "''")
    )
}

/// Whether the transaction has a tenant: `NULLIF(current_setting('app.tenant_id',
/// true), '')::uuid IS NOT NULL`. Inserts into tenant tables carry it as
/// their condition, so with no tenant set they write nothing (and the kit
/// says [`Error::TenantNotSet`](crate::Error::TenantNotSet)) instead of
/// failing on the row-level security policy.
pub fn tenant_is_set() -> String {
    format!("{} IS NOT NULL", setting_uuid(TENANT_SETTING))
}

impl TableSchema {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether rows are soft-deleted (the table has `deleted_at`).
    pub fn soft_deletes(&self) -> bool {
        self.has_bookkeeping("deleted_at")
    }

    /// Whether updates are version-checked (the table has `version`).
    pub fn versioned(&self) -> bool {
        self.has_bookkeeping("version")
    }

    /// Whether the table has the bookkeeping column `name`: looked for from
    /// the end, where the conventions put those columns (asked on every
    /// patch).
    fn has_bookkeeping(&self, name: &str) -> bool {
        self.columns.iter().rev().any(|c| c.name == name)
    }

    /// The single column a named constraint or index guards, if the schema
    /// knows it: how a database error is mapped back to the entity's column.
    pub fn column_of_constraint(&self, name: &str) -> Option<&'static str> {
        if name == self.primary_key {
            return Some("id");
        }
        if let Some(fk) = self.foreign_keys.iter().find(|f| f.name == name) {
            return Some(fk.column);
        }
        if let Some(c) = self.checks.iter().find(|c| c.name == name) {
            return Some(c.column);
        }
        // The one column the index guards, a tenant's `tenant_id` (which
        // leads its unique keys) aside.
        let index = self.indexes.iter().find(|i| i.name == name)?;
        let mut guarded = index
            .columns
            .iter()
            .filter(|c| !(self.tenant && c.name == "tenant_id"));
        match (guarded.next(), guarded.next()) {
            (Some(only), None) => Some(only.name),
            _ => None,
        }
    }

    /// Whether the kit and the database fill the column on every write, so
    /// the application never sets it: `id`, the audit columns, the actor
    /// columns, and a tenant table's `tenant_id`.
    pub fn is_maintained(&self, column: &str) -> bool {
        ordinance_naming::is_maintained(column, self.tenant)
    }

    /// Columns the application writes: all but the maintained ones (see
    /// [`is_maintained`](Self::is_maintained)), in field order.
    pub fn business_columns(&self) -> impl Iterator<Item = &'static Column> + '_ {
        self.columns.iter().filter(|c| !self.is_maintained(c.name))
    }

    /// Columns an insert writes: `id`, then the business columns.
    pub fn insert_columns(&self) -> impl Iterator<Item = &'static Column> + '_ {
        let id = self.columns.iter().filter(|c| c.name == "id");
        id.chain(self.business_columns())
    }

    /// The table's place: its PostgreSQL schema (`None` is `public`) and name.
    pub fn key(&self) -> (Option<&'static str>, &'static str) {
        (self.schema, self.name)
    }

    /// The name catalogs and messages use: `users`, or `auth.users` outside
    /// `public`.
    pub fn qualified_name(&self) -> String {
        match self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.to_owned(),
        }
    }

    /// The index that serves a keyset order (its columns in the order's
    /// directions, or all reversed: an index scanned backward), if any.
    pub fn keyset_index(&self, keyset: &[IndexColumn]) -> Option<&'static Index> {
        let same = |index: &Index, flip: bool| {
            index.columns.len() == keyset.len()
                && index.columns.iter().zip(keyset).all(|(i, k)| {
                    i.name == k.name
                        && i.function == k.function
                        && i.descending == (k.descending ^ flip)
                })
        };
        self.indexes.iter().find(|index| {
            index.method == IndexMethod::BTree
                && index.include.is_empty()
                && index.predicate.is_empty()
                && (same(index, false) || same(index, true))
        })
    }

    /// Whether one unique index covers exactly this column, alone and with
    /// no condition but liveness: a foreign key on it is one-to-one.
    pub fn is_unique_alone(&self, column: &str) -> bool {
        self.indexes.iter().any(|i| {
            i.unique
                && i.predicate.is_empty()
                && matches!(i.columns, [only] if only.name == column && only.function.is_none())
        })
    }

    /// Tables this one references, other than itself, as
    /// [`key`](Self::key)s.
    pub fn references(&self) -> impl Iterator<Item = (Option<&'static str>, &'static str)> + '_ {
        self.foreign_keys
            .iter()
            .map(|fk| (fk.references_schema, fk.references))
            .filter(move |t| *t != self.key())
    }
}
