//! Typed access to array columns (`Vec<T>`, `Vec<Option<T>>`) in sea-query
//! expressions: containment both ways, overlap and membership — the
//! operators a GIN index on the column (`index(tags, using = "gin")`)
//! serves — and appending in updates. Every value is bound, as an array of
//! the column's element type.
//!
//! ```
//! use ordinance::prelude::*;
//! use ordinance::deps::sea_query::PostgresQueryBuilder;
//! use ordinance::query::array::array;
//!
//! # #[derive(Entity)] pub struct Post { pub id: Uuid, pub tags: Vec<String>, pub scores: Vec<i32>, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>, pub deleted_at: Option<DateTime<Utc>>, pub version: i32 }
//! let mut select = ordinance::query::live::<Post>();
//! select
//!     .and_where(array(PostColumn::Tags).has("rust"))
//!     .and_where(array(PostColumn::Tags).overlaps(["async", "tokio"]))
//!     .and_where(array(PostColumn::Scores).overlaps([1, 2, 3]));
//! let (sql, values) = select.build(PostgresQueryBuilder);
//! assert!(sql.contains(r#""tags" @> $1"#), "{sql}");
//! assert!(sql.contains(r#""tags" && $2"#), "{sql}");
//! assert!(sql.contains(r#""scores" && $3"#), "{sql}");
//! assert_eq!(values.0.len(), 3);
//! ```

use std::borrow::Cow;

use sea_query::{ArrayType, Expr, Iden, Value, ValueType};

use crate::column_type::DbEnum;
use crate::ddl::quote_ident;

/// A value an array column holds, bound as an array of its element type:
/// `&str` as well as `String` (`has("rust")`, `overlaps(["a", "b"])`),
/// integers, `bool`, `Uuid`, `Decimal`, dates, timestamps and enums
/// deriving `DbEnum`.
pub trait ArrayItem: Into<Value> {
    /// The sea-query array type a list of these binds as.
    fn array_type() -> ArrayType;
}

macro_rules! array_items {
    ($($ty:ty),* $(,)?) => {
        $(
            impl ArrayItem for $ty {
                fn array_type() -> ArrayType {
                    <$ty as ValueType>::array_type()
                }
            }
        )*
    };
}

array_items!(
    String,
    bool,
    i16,
    i32,
    i64,
    uuid::Uuid,
    rust_decimal::Decimal,
    chrono::NaiveDate,
    chrono::DateTime<chrono::Utc>,
);

impl ArrayItem for &str {
    fn array_type() -> ArrayType {
        ArrayType::String
    }
}

impl ArrayItem for &String {
    fn array_type() -> ArrayType {
        ArrayType::String
    }
}

/// An enum is stored as its text.
impl<E: DbEnum + Into<Value>> ArrayItem for E {
    fn array_type() -> ArrayType {
        ArrayType::String
    }
}

/// An array column of an entity, named by its column enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayColumn {
    name: Cow<'static, str>,
}

/// An array column, for the expressions of [`ArrayColumn`].
pub fn array<C: Iden>(column: C) -> ArrayColumn {
    ArrayColumn {
        name: column.quoted(),
    }
}

/// Values as one bound array of their element type.
pub(super) fn bound<T: ArrayItem>(values: impl IntoIterator<Item = T>) -> Expr {
    let items: Vec<Value> = values.into_iter().map(Into::into).collect();
    Expr::val(Value::Array(T::array_type(), Some(Box::new(items))))
}

impl ArrayColumn {
    /// The column itself.
    pub fn expr(&self) -> Expr {
        Expr::cust(quote_ident(&self.name))
    }

    /// `"col" @> $1`: the array holds every one of `values`.
    pub fn contains<T: ArrayItem>(&self, values: impl IntoIterator<Item = T>) -> Expr {
        self.binary("@>", bound(values))
    }

    /// `"col" @> $1` with a one-element array: the array holds `value`
    /// (the form a GIN index serves, unlike `$1 = ANY(col)`), bound at the
    /// value's array type.
    pub fn has<T: ArrayItem>(&self, value: T) -> Expr {
        self.binary("@>", bound([value]))
    }

    /// `"col" <@ $1`: every element of the array is one of `values`.
    pub fn contained_by<T: ArrayItem>(&self, values: impl IntoIterator<Item = T>) -> Expr {
        self.binary("<@", bound(values))
    }

    /// `"col" && $1`: the array shares at least one element with `values`.
    pub fn overlaps<T: ArrayItem>(&self, values: impl IntoIterator<Item = T>) -> Expr {
        self.binary("&&", bound(values))
    }

    /// `cardinality("col")`: the number of elements (0 for an empty array).
    pub fn length(&self) -> Expr {
        Expr::cust(format!("cardinality({})", quote_ident(&self.name)))
    }

    /// `"col" || $1`: the array with `values` appended, for an update's
    /// `SET`.
    pub fn append<T: ArrayItem>(&self, values: impl IntoIterator<Item = T>) -> Expr {
        self.binary("||", bound(values))
    }

    /// `array_remove("col", $1)`: the array without any element equal to
    /// `value`, for an update's `SET`.
    pub fn remove<T: Into<Value>>(&self, value: T) -> Expr {
        Expr::cust_with_exprs("array_remove($1, $2)", [self.expr(), Expr::val(value)])
    }

    fn binary(&self, operator: &'static str, value: Expr) -> Expr {
        super::operator(self.expr(), operator, value)
    }
}
