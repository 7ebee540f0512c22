//! Which Rust types can be stored in an entity column, and as what.

use crate::schema::{CheckKind, ColumnDefault, SqlType, TableSchema};

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
    /// change or reject: the reason (digit counts, lengths; never the
    /// value). The kit calls it for columns with limits (`precision` /
    /// `scale`, `max_len`) on every write path; `Decimal` checks its digits
    /// against `NUMERIC(p,s)`, `String` its length against `max_len`,
    /// arrays each element. The default accepts every value.
    fn check_value(&self, limits: &ValueLimits) -> Result<(), String> {
        let _ = limits;
        Ok(())
    }
}

/// What a column accepts beyond its type, for [`ColumnType::check_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueLimits {
    /// The column's type, with its precision and scale.
    pub sql_type: SqlType,
    /// The longest text the column holds, in characters (`max_len`).
    pub max_len: Option<u32>,
}

impl ValueLimits {
    /// The limits of column `position` of a table.
    pub fn of(schema: &TableSchema, position: usize) -> Option<ValueLimits> {
        let column = schema.columns.get(position)?;
        let max_len = schema.checks.iter().find_map(|c| match c.kind {
            CheckKind::MaxLength(n) if c.column == column.name => Some(n),
            _ => None,
        });
        Some(ValueLimits {
            sql_type: column.sql_type,
            max_len,
        })
    }
}

/// Checks one field's value against its column's limits, naming the column
/// when it does not fit. The derive passes the `max_len` it declared, so
/// the hot path reads no list.
#[doc(hidden)]
#[inline]
pub fn check_field<T: ColumnType + ?Sized>(
    value: &T,
    schema: &'static TableSchema,
    position: usize,
    max_len: Option<u32>,
) -> crate::Result<()> {
    let Some(column) = schema.columns.get(position) else {
        return Ok(());
    };
    let limits = ValueLimits {
        sql_type: column.sql_type,
        max_len,
    };
    value
        .check_value(&limits)
        .map_err(|reason| does_not_fit(schema, position, reason))
}

/// [`crate::Error::ValueDoesNotFit`] for column `position` of a table.
pub(crate) fn does_not_fit(
    schema: &'static TableSchema,
    position: usize,
    reason: String,
) -> crate::Error {
    crate::Error::ValueDoesNotFit {
        table: schema.name,
        column: schema.columns.get(position).map_or("?", |c| c.name),
        reason,
    }
}

/// Each element of an array through `fits`, naming the first that does not
/// fit by its position (from 1, NULL elements counted, as PostgreSQL
/// numbers them).
pub(crate) fn each_element<T>(
    items: impl IntoIterator<Item = Option<T>>,
    mut fits: impl FnMut(T) -> Result<(), String>,
) -> Result<(), String> {
    for (i, item) in items.into_iter().enumerate() {
        if let Some(item) = item {
            fits(item).map_err(|reason| format!("element {}: {reason}", i + 1))?;
        }
    }
    Ok(())
}

/// Whether a decimal is stored exactly by a column of this type: at most
/// `scale` digits after the point (trailing zeros do not count) and at most
/// `precision - scale` before it. Unconstrained `NUMERIC` keeps any.
pub(crate) fn decimal_fits(
    value: &rust_decimal::Decimal,
    sql_type: &SqlType,
) -> Result<(), String> {
    let SqlType::Numeric {
        precision: Some(precision),
        scale,
    } = *sql_type
    else {
        return Ok(());
    };
    let scale = scale.unwrap_or(0);
    let exact = value.normalize();
    let fraction = exact.scale();
    if fraction > u32::from(scale) {
        return Err(format!(
            "it has {fraction} digits after the point and {} keeps {scale}, so PostgreSQL would round it; \
             round it explicitly first (e.g. `Decimal::round_dp_with_strategy`) or raise `scale`",
            sql_type.sql()
        ));
    }
    let whole = exact.mantissa().unsigned_abs() / 10u128.pow(fraction);
    let digits = if whole == 0 { 0 } else { whole.ilog10() + 1 };
    let room = u32::from(precision.saturating_sub(scale));
    if digits > room {
        return Err(format!(
            "it has {digits} digits before the point and {} holds {room}; raise `precision`",
            sql_type.sql()
        ));
    }
    Ok(())
}

/// Whether text fits a column's `max_len`, in characters as PostgreSQL's
/// `char_length` counts them.
#[inline]
pub(crate) fn text_fits(value: &str, max_len: Option<u32>) -> Result<(), String> {
    let Some(max) = max_len else {
        return Ok(());
    };
    // Bytes bound characters from above: most values need no count.
    if value.len() <= max as usize {
        return Ok(());
    }
    count_chars(value, max)
}

/// The slow half of [`text_fits`]: count the characters.
#[cold]
fn count_chars(value: &str, max: u32) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > max as usize {
        return Err(format!(
            "it is {chars} characters long and the column holds at most {max} (`max_len`)"
        ));
    }
    Ok(())
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
    i16 => SqlType::SmallInt;
    i32 => SqlType::Integer;
    i64 => SqlType::BigInt;
    f32 => SqlType::Real;
    f64 => SqlType::DoublePrecision;
    chrono::DateTime<chrono::Utc> => SqlType::Timestamptz;
    chrono::NaiveDate => SqlType::Date;
    serde_json::Value => SqlType::Jsonb, default ColumnDefault::EmptyJsonObject;
    Vec<u8> => SqlType::Bytea;
}

#[diagnostic::do_not_recommend]
impl ColumnType for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    #[inline]
    fn check_value(&self, limits: &ValueLimits) -> Result<(), String> {
        text_fits(self, limits.max_len)
    }
}

#[diagnostic::do_not_recommend]
impl ColumnType for rust_decimal::Decimal {
    const SQL_TYPE: SqlType = SqlType::Numeric {
        precision: None,
        scale: None,
    };
    fn check_value(&self, limits: &ValueLimits) -> Result<(), String> {
        decimal_fits(self, &limits.sql_type)
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
                fn check_value(&self, limits: &ValueLimits) -> Result<(), String> {
                    check_elements(self.iter().map(Some), limits)
                }
            }
            #[diagnostic::do_not_recommend]
            impl ColumnType for Vec<Option<$ty>> {
                const SQL_TYPE: SqlType = SqlType::Array(&$element);
                const DEFAULT: Option<ColumnDefault> = Some(ColumnDefault::EmptyArray);
                fn check_value(&self, limits: &ValueLimits) -> Result<(), String> {
                    check_elements(self.iter().map(Option::as_ref), limits)
                }
            }
        )*
    };
}

/// Each element of an array against the limits of the array's element
/// type, naming the first that does not fit by its position (NULL elements
/// count, so the position is the one PostgreSQL would show, from 1).
fn check_elements<'a, T: ColumnType + 'a>(
    items: impl Iterator<Item = Option<&'a T>>,
    limits: &ValueLimits,
) -> Result<(), String> {
    let Some(element) = limits.sql_type.element() else {
        return Ok(());
    };
    let limits = ValueLimits {
        sql_type: *element,
        ..*limits
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

/// A Rust enum stored as `TEXT`, restricted by a `CHECK (col IN (...))`.
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
        _ => Err(sea_query::ValueTypeErr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_element_is_named_by_its_position_nulls_counted() {
        let limits = ValueLimits {
            sql_type: SqlType::Array(&SqlType::Numeric {
                precision: Some(6),
                scale: Some(2),
            }),
            max_len: None,
        };
        let fits: rust_decimal::Decimal = "1.5".parse().expect("decimal");
        let too_fine: rust_decimal::Decimal = "1.234".parse().expect("decimal");
        let with_nulls = vec![None, Some(fits), None, Some(too_fine)];
        let reason = with_nulls.check_value(&limits).expect_err("refused");
        assert!(reason.starts_with("element 4: "), "{reason}");
        let without = vec![fits, too_fine];
        let reason = without.check_value(&limits).expect_err("refused");
        assert!(reason.starts_with("element 2: "), "{reason}");
        assert_eq!(vec![None, Some(fits)].check_value(&limits), Ok(()));
    }
}
