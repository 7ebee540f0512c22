//! Which Rust types can be stored in an entity column, and as what.

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
            NaiveDate, serde_json::Value, Json<T>, Vec<String>, Vec<u8>, an enum deriving `DbEnum`, \
            and Option<T> of any of them (f32 / f64 only with a `float` waiver)",
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
    String => SqlType::Text;
    bool => SqlType::Boolean;
    i16 => SqlType::SmallInt;
    i32 => SqlType::Integer;
    i64 => SqlType::BigInt;
    f32 => SqlType::Real;
    f64 => SqlType::DoublePrecision;
    rust_decimal::Decimal => SqlType::Numeric { precision: None, scale: None };
    chrono::DateTime<chrono::Utc> => SqlType::Timestamptz;
    chrono::NaiveDate => SqlType::Date;
    serde_json::Value => SqlType::Jsonb, default ColumnDefault::EmptyJsonObject;
    Vec<String> => SqlType::TextArray, default ColumnDefault::EmptyArray;
    Vec<u8> => SqlType::Bytea;
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
