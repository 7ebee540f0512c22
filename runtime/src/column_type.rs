//! Which Rust types can be stored in an entity column, and as what.

use crate::checks::{decimal_fits, each_element, number_fits, text_fits, Rule, ValueLimits};
use crate::schema::{ColumnDefault, SqlType};

/// A Rust type that can be stored in an entity column.
///
/// The kit implements it for the types of the convention table; an enum gets
/// it from `#[derive(DbEnum)]`. Implement it for your own type (a newtype
/// around `String`, say) to store it; the type then also needs
/// `tokio_postgres`'s `ToSql` and `FromSql` so its values can travel:
///
/// ```
/// use ordinance::{ColumnType, SqlType};
///
/// /// An e-mail address, validated on construction.
/// pub struct Email(String);
///
/// impl ColumnType for Email {
///     const SQL_TYPE: SqlType = SqlType::Text;
/// }
/// assert_eq!(<Email as ColumnType>::SQL_TYPE.sql(), "TEXT");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in an entity column",
    label = "no PostgreSQL column type for `{Self}`",
    note = "storable types: Uuid, String, bool, i16, i32, i64, rust_decimal::Decimal, DateTime<Utc>, \
            NaiveDate, serde_json::Value, Json<T>, Vec<u8> (BYTEA), an enum deriving `DbEnum`, \
            arrays `Vec<T>` / `Vec<Option<T>>` of String, bool, i16, i32, i64, Uuid, Decimal, \
            NaiveDate, DateTime<Utc>, and Option<T> of any of them (f32 / f64 only with a `float` waiver)",
    note = "to store a type of your own, implement `ordinance::ColumnType` for it"
)]
pub trait ColumnType {
    /// The PostgreSQL type of the column.
    const SQL_TYPE: SqlType;
    /// The default of a `NOT NULL` column of this type, if the conventions give one.
    const DEFAULT: Option<ColumnDefault> = None;
    /// The only values the column may hold (stored as text), enforced with a
    /// `CHECK (col IN (...))`; empty means any value of the type.
    const ALLOWED_VALUES: &'static [&'static str] = &[];

    /// Refuses, before anything is written, a value the column would
    /// change or reject: the [`Rule`] it breaks (never the value). The kit
    /// calls it for columns with limits (`min_len` / `max_len`, `min` /
    /// `max`, `precision` / `scale`) on every write path: `String` checks
    /// its length in characters, integers and `Decimal` their bounds,
    /// `Decimal` its digits against `NUMERIC(p,s)`, arrays each element.
    /// The default accepts every value.
    fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
        let _ = limits;
        Ok(())
    }

    /// [`check_value`](Self::check_value), with the position of the array
    /// element that broke the rule: arrays override it.
    #[doc(hidden)]
    fn check_elements(&self, limits: &ValueLimits) -> Result<(), (Option<u32>, Rule)> {
        self.check_value(limits).map_err(|rule| (None, rule))
    }
}

macro_rules! column_types {
    ($($ty:ty => $sql:expr $(, default $default:expr)?;)*) => {
        $(
            // The trait's own note lists the storable types; rustc's list of
            // implementations would repeat it less clearly.
            #[diagnostic::do_not_recommend]
            impl ColumnType for $ty {
                const SQL_TYPE: SqlType = $sql;
                $(const DEFAULT: Option<ColumnDefault> = Some($default);)?
            }
        )*
    };
}

column_types! {
    uuid::Uuid => SqlType::Uuid;
    bool => SqlType::Boolean;
    f32 => SqlType::Real;
    f64 => SqlType::DoublePrecision;
    chrono::DateTime<chrono::Utc> => SqlType::Timestamptz;
    chrono::NaiveDate => SqlType::Date;
    serde_json::Value => SqlType::Jsonb, default ColumnDefault::EmptyJsonObject;
    Vec<u8> => SqlType::Bytea;
}

/// Integers, held to `min` and `max`.
macro_rules! integer_types {
    ($($ty:ty => $sql:expr;)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl ColumnType for $ty {
                const SQL_TYPE: SqlType = $sql;
                #[inline]
                fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
                    number_fits(&i64::from(*self), limits.min, limits.max, |n| n)
                }
            }
        )*
    };
}

integer_types! {
    i16 => SqlType::SmallInt;
    i32 => SqlType::Integer;
    i64 => SqlType::BigInt;
}

#[diagnostic::do_not_recommend]
impl ColumnType for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    #[inline]
    fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
        text_fits(self, limits)
    }
}

#[diagnostic::do_not_recommend]
impl ColumnType for rust_decimal::Decimal {
    const SQL_TYPE: SqlType = SqlType::Numeric {
        precision: None,
        scale: None,
    };
    fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
        decimal_fits(self, limits)
    }
}

/// Array columns: `Vec<T>` of a scalar type (no NULL elements) and
/// `Vec<Option<T>>` (NULL elements allowed), both `T[]`, `'{}'` by default
/// when the field is not an `Option`.
macro_rules! array_types {
    ($($ty:ty => $element:expr;)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl ColumnType for Vec<$ty> {
                const SQL_TYPE: SqlType = SqlType::Array(&$element);
                const DEFAULT: Option<ColumnDefault> = Some(ColumnDefault::EmptyArray);
                fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
                    self.check_elements(limits).map_err(|(_, rule)| rule)
                }
                fn check_elements(&self, limits: &ValueLimits) -> Result<(), (Option<u32>, Rule)> {
                    array_fits(self.iter().map(Some), limits)
                }
            }
            #[diagnostic::do_not_recommend]
            impl ColumnType for Vec<Option<$ty>> {
                const SQL_TYPE: SqlType = SqlType::Array(&$element);
                const DEFAULT: Option<ColumnDefault> = Some(ColumnDefault::EmptyArray);
                fn check_value(&self, limits: &ValueLimits) -> Result<(), Rule> {
                    self.check_elements(limits).map_err(|(_, rule)| rule)
                }
                fn check_elements(&self, limits: &ValueLimits) -> Result<(), (Option<u32>, Rule)> {
                    array_fits(self.iter().map(Option::as_ref), limits)
                }
            }
        )*
    };
}

/// Each element of an array against the limits of the array's element
/// type, naming the first that does not fit by its position (NULL elements
/// count, so the position is the one PostgreSQL would show, from 1).
fn array_fits<'a, T: ColumnType + 'a>(
    items: impl Iterator<Item = Option<&'a T>>,
    limits: &ValueLimits,
) -> Result<(), (Option<u32>, Rule)> {
    let Some(limits) = limits.of_elements() else {
        return Ok(());
    };
    each_element(items, |item| item.check_value(&limits))
}

array_types! {
    String => SqlType::Text;
    bool => SqlType::Boolean;
    i16 => SqlType::SmallInt;
    i32 => SqlType::Integer;
    i64 => SqlType::BigInt;
    uuid::Uuid => SqlType::Uuid;
    rust_decimal::Decimal => SqlType::Numeric { precision: None, scale: None };
    chrono::NaiveDate => SqlType::Date;
    chrono::DateTime<chrono::Utc> => SqlType::Timestamptz;
}

/// A JSON document of any serde type, stored as `JSONB`.
pub use tokio_postgres::types::Json;

#[diagnostic::do_not_recommend]
impl<T> ColumnType for Json<T> {
    const SQL_TYPE: SqlType = SqlType::Jsonb;
    const DEFAULT: Option<ColumnDefault> = Some(ColumnDefault::EmptyJsonObject);
}

/// A Rust enum stored as `TEXT`, restricted by a `CHECK (col IN (...))` —
/// or, when its crate's policy sets `types.enums = "native"`, as a native
/// `CREATE TYPE … AS ENUM` named after the enum in snake_case.
///
/// Derive it with `#[derive(DbEnum, Clone, Copy, Debug)]`: each unit variant is
/// stored as its name in snake_case (`InReview` as `in_review`). The derive
/// also implements `ToSql` and `FromSql` (which need `Debug`); reading a value
/// that is not a variant is a decode error naming the column.
pub trait DbEnum: Sized + Copy + 'static {
    /// The stored value of every variant, in declaration order.
    const VALUES: &'static [&'static str];
    /// The stored value of this variant.
    fn as_str(&self) -> &'static str;
    /// The variant stored as `value`, if any.
    fn from_str_value(value: &str) -> Option<Self>;
}

/// `FromSql` of a `DbEnum`: a text value that must be one of the variants.
#[doc(hidden)]
pub fn enum_from_sql<E: DbEnum>(
    ty: &tokio_postgres::types::Type,
    raw: &[u8],
) -> Result<E, Box<dyn std::error::Error + Sync + Send>> {
    let text = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
    E::from_str_value(text)
        .ok_or_else(|| format!("\"{text}\" is not one of the stored values {:?}", E::VALUES).into())
}

/// Whether a `DbEnum`'s values can travel as PostgreSQL type `ty`: the
/// text types, and any native enum type (whose binary form is its label).
#[doc(hidden)]
pub fn enum_accepts(ty: &tokio_postgres::types::Type) -> bool {
    <&str as tokio_postgres::types::FromSql>::accepts(ty)
        || matches!(ty.kind(), tokio_postgres::types::Kind::Enum(_))
}

/// The label of a native enum value (or a text value), read as text.
pub(crate) struct EnumLabel(pub(crate) String);

impl<'a> tokio_postgres::types::FromSql<'a> for EnumLabel {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        <String as tokio_postgres::types::FromSql>::from_sql(ty, raw).map(EnumLabel)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        enum_accepts(ty)
    }
}

/// A natively stored `DbEnum` as a sea-query value: its stored text, cast
/// to its type (`$1::"ticket_status"`), so a caller's
/// `Expr::col(TicketColumn::Status).eq(TicketStatus::Open)` compares enum
/// with enum.
#[doc(hidden)]
pub fn native_enum_value(type_name: &'static str, stored: &'static str) -> sea_query::Value {
    enum_label(type_name, Some(stored.to_owned()))
}

/// The NULL of a natively stored `DbEnum` column.
#[doc(hidden)]
pub fn native_enum_value_null(type_name: &'static str) -> sea_query::Value {
    enum_label(type_name, None)
}

/// A label (or NULL) of the native enum type `type_name` as a sea-query
/// value, which binds it as text cast to the type.
pub(crate) fn enum_label(type_name: &str, label: Option<String>) -> sea_query::Value {
    use sea_query::{Enum, OptionEnum, Value};
    Value::Enum(match label {
        Some(label) => OptionEnum::Some(Box::new(Enum {
            type_name: type_name.into(),
            value: label.into(),
        })),
        None => OptionEnum::None(type_name.into()),
    })
}

/// A `DbEnum` as a sea-query value: its stored text, bound as `TEXT` like
/// the column, so `Expr::col(TicketColumn::Status).eq(TicketStatus::Open)`
/// and `is_in([...])` work as written.
#[doc(hidden)]
pub fn enum_value(stored: &'static str) -> sea_query::Value {
    sea_query::Value::String(Some(stored.to_owned()))
}

/// The NULL of a `DbEnum` column (`Option<E>` as a sea-query value).
#[doc(hidden)]
pub fn enum_value_null() -> sea_query::Value {
    sea_query::Value::String(None)
}

/// A sea-query value read back as a `DbEnum`: a text value that is one of
/// the variants.
#[doc(hidden)]
pub fn enum_from_value<E: DbEnum>(value: sea_query::Value) -> Result<E, sea_query::ValueTypeErr> {
    match value {
        sea_query::Value::String(Some(text)) => {
            E::from_str_value(&text).ok_or(sea_query::ValueTypeErr)
        }
        sea_query::Value::Enum(sea_query::OptionEnum::Some(e)) => {
            E::from_str_value(&e.value).ok_or(sea_query::ValueTypeErr)
        }
        _ => Err(sea_query::ValueTypeErr),
    }
}
