//! Typed access to JSONB columns (`serde_json::Value`, `Json<T>`) in
//! sea-query expressions: a field as text or as a number or boolean,
//! containment (`@>`), key existence (`?`, `?|`, `?&`) and merging (`||`)
//! in updates.
//!
//! Every value is bound as a parameter. The keys of a field's path are part
//! of the statement, like column names: they come from the program
//! (`&'static str`), are quoted as literals, and render exactly as an index
//! declared with `#[entity(index(json(settings, "max_tokens") as i32))]`
//! does, so a filter on the field uses that index.
//!
//! ```
//! use ordinance::prelude::*;
//! use ordinance::deps::sea_query::{ExprTrait, PostgresQueryBuilder};
//! use ordinance::query::json::json;
//!
//! # #[derive(Entity)] pub struct Agent { pub id: Uuid, pub configuration: serde_json::Value, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! let config = json(AgentColumn::Configuration);
//! let mut select = ordinance::query::live::<Agent>();
//! select
//!     .and_where(config.field("max_tokens").as_i32().gt(400))
//!     .and_where(config.field("model").text().eq("gpt-4"))
//!     .and_where(config.has_key("top_p"));
//! let (sql, values) = select.build(PostgresQueryBuilder);
//! assert!(sql.contains(r#"((("configuration" ->> 'max_tokens')::INTEGER)) > $1"#), "{sql}");
//! assert!(sql.contains(r#"(("configuration" ->> 'model')) = $2"#), "{sql}");
//! assert!(sql.contains(r#""configuration" ? $3"#), "{sql}");
//! assert_eq!(values.0.len(), 3);
//! ```

use std::borrow::Cow;

use sea_query::{Expr, ExprTrait as _, Iden};

use super::array::bound;
use crate::ddl::{json_field, json_path, quote_ident};
use crate::schema::SqlType;

/// A JSONB column of an entity, named by its column enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonColumn {
    name: Cow<'static, str>,
}

/// A JSONB column, for the expressions of [`JsonColumn`].
pub fn json<C: Iden>(column: C) -> JsonColumn {
    JsonColumn {
        name: column.quoted(),
    }
}

impl JsonColumn {
    /// The column itself.
    pub fn expr(&self) -> Expr {
        Expr::cust(quote_ident(&self.name))
    }

    /// A field of the document (`"settings" ->> 'theme'`); chain
    /// [`JsonField::field`] for nested documents.
    pub fn field(&self, key: &'static str) -> JsonField {
        JsonField {
            column: self.name.clone(),
            path: vec![key],
        }
    }

    /// A field at the end of a path of keys (`["limits", "max"]`).
    pub fn path(&self, keys: &[&'static str]) -> JsonField {
        JsonField {
            column: self.name.clone(),
            path: keys.to_vec(),
        }
    }

    /// `"col" @> $1`: the document contains `doc` (its keys with these
    /// values, its arrays these elements). Served by a GIN index on the
    /// column (`index(col, using = "gin")`).
    pub fn contains(&self, doc: impl Into<serde_json::Value>) -> Expr {
        self.binary("@>", Expr::val(doc.into()))
    }

    /// `"col" ? $1`: the document has the top-level key. Served by a GIN
    /// index on the column.
    pub fn has_key(&self, key: impl Into<String>) -> Expr {
        self.binary("?", Expr::val(key.into()))
    }

    /// `"col" ?| $1`: the document has at least one of the keys.
    pub fn has_any_key<K: Into<String>>(&self, keys: impl IntoIterator<Item = K>) -> Expr {
        self.binary("?|", bound(keys.into_iter().map(Into::<String>::into)))
    }

    /// `"col" ?& $1`: the document has all of the keys.
    pub fn has_all_keys<K: Into<String>>(&self, keys: impl IntoIterator<Item = K>) -> Expr {
        self.binary("?&", bound(keys.into_iter().map(Into::<String>::into)))
    }

    /// `"col" || $1`: the document with `doc`'s top-level keys merged in
    /// (replacing the ones it had), for an update's `SET`:
    /// `(AgentColumn::Configuration, json(AgentColumn::Configuration).merge(json!({"top_p": 0.9})))`.
    pub fn merge(&self, doc: impl Into<serde_json::Value>) -> Expr {
        self.binary("||", Expr::val(doc.into()))
    }

    /// `"col" - $1`: the document without the top-level key, for an
    /// update's `SET`.
    pub fn remove_key(&self, key: impl Into<String>) -> Expr {
        self.binary("-", Expr::val(key.into()))
    }

    fn binary(&self, operator: &'static str, value: Expr) -> Expr {
        super::operator(self.expr(), operator, value)
    }
}

/// A field inside a JSONB column, read as text or as a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonField {
    column: Cow<'static, str>,
    path: Vec<&'static str>,
}

impl JsonField {
    /// The field `key` of this (object) field.
    pub fn field(mut self, key: &'static str) -> JsonField {
        self.path.push(key);
        self
    }

    /// The field as text (`->>`): a string without its quotes, a number or
    /// boolean as written, NULL when the field is absent or JSON `null`.
    pub fn text(&self) -> Expr {
        self.cast(SqlType::Text)
    }

    /// The field as a `SMALLINT` (a field that is not an integer fails the
    /// statement with a typed [`Error::InvalidValue`](crate::Error::InvalidValue)).
    pub fn as_i16(&self) -> Expr {
        self.cast(SqlType::SmallInt)
    }

    /// The field as an `INTEGER`.
    pub fn as_i32(&self) -> Expr {
        self.cast(SqlType::Integer)
    }

    /// The field as a `BIGINT`.
    pub fn as_i64(&self) -> Expr {
        self.cast(SqlType::BigInt)
    }

    /// The field as a `NUMERIC` (compare with a `Decimal`).
    pub fn as_decimal(&self) -> Expr {
        self.cast(SqlType::Numeric {
            precision: None,
            scale: None,
        })
    }

    /// The field as a `BOOLEAN`.
    pub fn as_bool(&self) -> Expr {
        self.cast(SqlType::Boolean)
    }

    /// `("col" ->> 'key')` cast to `as_type`: the expression an index on
    /// the field keys on.
    fn cast(&self, as_type: SqlType) -> Expr {
        Expr::cust(json_field(&self.column, &self.path, as_type))
    }

    /// The field as a JSONB document (`"col" -> 'key'`), for containment
    /// inside it.
    pub fn document(&self) -> Expr {
        Expr::cust(format!(
            "({})",
            json_path(quote_ident(&self.column), &self.path, false)
        ))
    }

    /// `("col" -> 'key') @> $1`: this field's document contains `doc`.
    pub fn contains(&self, doc: impl Into<serde_json::Value>) -> Expr {
        super::operator(self.document(), "@>", Expr::val(doc.into()))
    }

    /// Whether the field is present (and not JSON `null`):
    /// `("col" ->> 'key') IS NOT NULL`.
    pub fn is_present(&self) -> Expr {
        self.text().is_not_null()
    }
}
