//! The values a sea-query statement collected, bound for the driver at
//! their exact PostgreSQL types: what runs a statement built at run time
//! (a scoped select, a write builder, a page, a join).

use tokio_postgres::types::Type;

/// A bound value of a sea-query statement, ready for tokio-postgres.
pub type BoxedParam = Box<dyn tokio_postgres::types::ToSql + Sync + Send>;

/// The values sea-query collected for a statement, owned and ready to
/// bind, with their PostgreSQL types.
pub(crate) struct Bound {
    values: Vec<BoxedParam>,
    /// Each value's type, in order.
    pub(crate) types: Vec<Type>,
}

impl Bound {
    /// Converts the values; [`Error::UnsupportedValue`](crate::Error::UnsupportedValue)
    /// for a value PostgreSQL has no type for.
    pub(crate) fn new(values: sea_query::Values) -> crate::Result<Bound> {
        let (values, types) = bind_values(values)?.into_iter().unzip();
        Ok(Bound { values, types })
    }

    /// The values as statement parameters.
    pub(crate) fn params(&self) -> crate::params::Params<'_> {
        let mut out = crate::params::Params::new();
        for value in &self.values {
            out.push(&**value);
        }
        out
    }
}

/// Converts the values sea-query collected into parameters, keeping their
/// exact types: decimals stay `Decimal` (never `f64`), timestamps with a zone
/// become `DateTime<Utc>`. Types PostgreSQL has no exact match for fail with
/// [`Error::UnsupportedValue`](crate::Error::UnsupportedValue).
pub fn bind_values(values: sea_query::Values) -> crate::Result<Vec<(BoxedParam, Type)>> {
    use sea_query::Value as V;
    let unsupported = |what: &str| crate::Error::UnsupportedValue(what.to_owned());
    values
        .0
        .into_iter()
        .map(|v| -> crate::Result<(BoxedParam, Type)> {
            Ok(match v {
                V::Bool(x) => (Box::new(x), Type::BOOL),
                V::TinyInt(x) => (Box::new(x.map(i16::from)), Type::INT2),
                V::SmallInt(x) => (Box::new(x), Type::INT2),
                V::Int(x) => (Box::new(x), Type::INT4),
                V::BigInt(x) => (Box::new(x), Type::INT8),
                V::TinyUnsigned(x) => (Box::new(x.map(i16::from)), Type::INT2),
                V::SmallUnsigned(x) => (Box::new(x.map(i32::from)), Type::INT4),
                V::Unsigned(x) => (Box::new(x.map(i64::from)), Type::INT8),
                V::BigUnsigned(x) => (
                    Box::new(
                        x.map(i64::try_from)
                            .transpose()
                            .map_err(|_| unsupported("an unsigned value above i64::MAX"))?,
                    ),
                    Type::INT8,
                ),
                V::Float(x) => (Box::new(x), Type::FLOAT4),
                V::Double(x) => (Box::new(x), Type::FLOAT8),
                V::String(x) => (Box::new(x), Type::TEXT),
                V::Char(x) => (Box::new(x.map(String::from)), Type::TEXT),
                V::Bytes(x) => (Box::new(x), Type::BYTEA),
                V::Json(x) => (Box::new(x.map(|j| *j)), Type::JSONB),
                V::ChronoDate(x) => (Box::new(x), Type::DATE),
                V::ChronoDateTimeUtc(x) => (Box::new(x), Type::TIMESTAMPTZ),
                V::ChronoDateTimeLocal(x) => (
                    Box::new(x.map(|t| t.with_timezone(&chrono::Utc))),
                    Type::TIMESTAMPTZ,
                ),
                V::ChronoDateTimeWithTimeZone(x) => (
                    Box::new(x.map(|t| t.with_timezone(&chrono::Utc))),
                    Type::TIMESTAMPTZ,
                ),
                V::Uuid(x) => (Box::new(x), Type::UUID),
                V::Decimal(x) => (Box::new(x), Type::NUMERIC),
                V::Array(ty, items) => bind_array(ty, items.map(|items| *items))?,
                V::ChronoDateTime(_) => {
                    return Err(unsupported(
                        "a timestamp without a time zone (use DateTime<Utc>)",
                    ))
                }
                other => return Err(unsupported(&value_kind(&other))),
            })
        })
        .collect()
}

/// A sea-query array as one parameter, at the array type of its elements:
/// `ArrayType::Int` as `INTEGER[]`, and so on; a NULL element stays NULL.
fn bind_array(
    ty: sea_query::ArrayType,
    items: Option<Vec<sea_query::Value>>,
) -> crate::Result<(BoxedParam, Type)> {
    use sea_query::{ArrayType as A, Value as V};
    // Each element must be of the array's type (sea-query builds them so).
    macro_rules! elements {
        ($variant:ident, $wire:expr) => {{
            let items = items
                .map(|items| {
                    items
                        .into_iter()
                        .map(|item| match item {
                            V::$variant(x) => Ok(x),
                            other => Err(crate::Error::UnsupportedValue(format!(
                                "{} in an array of {}",
                                value_kind(&other),
                                stringify!($variant)
                            ))),
                        })
                        .collect::<crate::Result<Vec<_>>>()
                })
                .transpose()?;
            (Box::new(items) as BoxedParam, $wire)
        }};
    }
    Ok(match ty {
        A::Bool => elements!(Bool, Type::BOOL_ARRAY),
        A::SmallInt => elements!(SmallInt, Type::INT2_ARRAY),
        A::Int => elements!(Int, Type::INT4_ARRAY),
        A::BigInt => elements!(BigInt, Type::INT8_ARRAY),
        A::String => elements!(String, Type::TEXT_ARRAY),
        A::Uuid => elements!(Uuid, Type::UUID_ARRAY),
        A::Decimal => elements!(Decimal, Type::NUMERIC_ARRAY),
        A::ChronoDate => elements!(ChronoDate, Type::DATE_ARRAY),
        A::ChronoDateTimeUtc => elements!(ChronoDateTimeUtc, Type::TIMESTAMPTZ_ARRAY),
        other => {
            return Err(crate::Error::UnsupportedValue(format!(
                "an array of {other:?}"
            )))
        }
    })
}

/// What kind of value this is, never the value itself (values stay out of
/// errors).
fn value_kind(value: &sea_query::Value) -> String {
    let debug = format!("{value:?}");
    debug
        .split(['(', ' '])
        .next()
        .unwrap_or("a value")
        .to_owned()
}
