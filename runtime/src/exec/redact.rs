//! Bound values that never show in a log.
//!
//! tokio-postgres logs `executing statement … with parameters: [...]` at
//! DEBUG, formatting each parameter with `Debug`. Every value the kit binds
//! goes through [`Redacted`], whose `Debug` prints `<redacted>` and whose
//! `ToSql` is the value's own, so turning on debug logging shows statement
//! names and parameter counts, never passwords or personal data.

use std::error::Error as StdError;
use std::fmt;

use bytes::BytesMut;
use tokio_postgres::types::{Format, IsNull, ToSql, Type};

use crate::params::SqlParam;

/// A bound value: encoded as itself, formatted as `<redacted>`.
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub SqlParam<'a>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Redacted<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(ty, out)
    }

    /// The wrapped value checks the type itself, in `to_sql_checked`.
    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(ty, out)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        self.0.encode_format(ty)
    }
}

/// Each parameter, redacted, without collecting them anywhere.
pub(crate) fn redacted<'a>(
    params: &'a [SqlParam<'a>],
) -> impl ExactSizeIterator<Item = Redacted<'a>> + 'a {
    params.iter().map(|p| Redacted(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value_and_encoding_keeps_it() {
        let secret = String::from("hunter2");
        let param = Redacted(&secret);
        assert_eq!(format!("{param:?}"), "<redacted>");
        let mut plain = BytesMut::new();
        let mut wrapped = BytesMut::new();
        secret
            .to_sql_checked(&Type::TEXT, &mut plain)
            .expect("encodes");
        param
            .to_sql_checked(&Type::TEXT, &mut wrapped)
            .expect("encodes");
        assert_eq!(plain, wrapped);
        // The wrapped value still refuses a type it cannot be.
        assert!(param.to_sql_checked(&Type::INT4, &mut wrapped).is_err());
    }
}
