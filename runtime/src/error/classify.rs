//! How a driver error becomes an [`Error`]: by SQLSTATE (the table is on
//! [`Error`]), naming the entity's table and the column behind a constraint
//! or a refused parameter where the schema knows it.

use tokio_postgres::error::SqlState;

use super::Error;
use crate::pg_error::PgError;
use crate::schema::TableSchema;

/// How a statement failed, before the kit names the entity behind it: the
/// driver's error (classified into an [`Error`] with the entity's table and
/// columns), or an error of the kit's own from before the statement could
/// run, such as no connection to be had from a pool.
pub enum Failure {
    /// The driver's (or the server's) error.
    Driver(tokio_postgres::Error),
    /// The kit's error, already typed.
    Kit(Box<Error>),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(err: tokio_postgres::Error) -> Self {
        Failure::Driver(err)
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Kit(Box::new(err))
    }
}

impl From<Failure> for Error {
    /// Classifies a driver error without an entity to name columns from.
    fn from(failure: Failure) -> Self {
        classify(failure, None, &[])
    }
}

/// The server's report with its values redacted, as [`PgError`] shows it.
impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Redacted<'e>(&'e tokio_postgres::Error);
        impl std::fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                crate::pg_error::write_driver_error(self.0, f)
            }
        }
        match self {
            Failure::Driver(err) => f.debug_tuple("Driver").field(&Redacted(err)).finish(),
            Failure::Kit(err) => f.debug_tuple("Kit").field(err).finish(),
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    /// Classifies by SQLSTATE (see the module's table), without an entity to
    /// name columns from.
    fn from(err: tokio_postgres::Error) -> Self {
        classify(err, None, &[])
    }
}

/// Whether a driver error means the server cannot be reached or went away.
pub(crate) fn is_unavailable(err: &tokio_postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        return code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                SqlState::IDLE_SESSION_TIMEOUT,
            ]
            .contains(code);
    }
    // Connect failures and I/O errors mid-statement carry an io::Error.
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    // The driver's connect timeout has no cause.
    err.to_string() == "timeout waiting for server"
}

/// The column a `numeric field overflow` (22003) was for: the server names
/// no column, but its detail gives the precision and scale, and when exactly
/// one parameter's column is `NUMERIC` of that precision and scale, it is
/// that one.
fn overflowing_numeric(
    source: &PgError,
    schema: &'static TableSchema,
    parameters: &[&'static str],
) -> Option<&'static str> {
    let db = source.db_error()?;
    if *db.code() != SqlState::NUMERIC_VALUE_OUT_OF_RANGE {
        return None;
    }
    // "A field with precision 12, scale 2 must round to ..."
    let detail = db.detail()?;
    let number_after = |word: &str| -> Option<u16> {
        let at = detail.find(word)? + word.len();
        detail[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let (precision, scale) = (number_after("precision")?, number_after("scale")?);
    let candidates = parameters.iter().filter(|name| {
        schema.column(name).is_some_and(|c| {
            c.sql_type
                == crate::schema::SqlType::Numeric {
                    precision: Some(precision),
                    scale: Some(scale),
                }
        })
    });
    the_only(candidates).copied()
}

/// The column a `value too long for type character varying(n)` (22001) was
/// for: the server names no column, but when exactly one of the
/// statement's columns (the parameters' or, unknown, the table's) is
/// stored as `VARCHAR(n)`, it is that one.
fn overlong_varchar(
    source: &PgError,
    schema: &'static TableSchema,
    parameters: &[&'static str],
) -> Option<&'static str> {
    let db = source.db_error()?;
    if *db.code() != SqlState::STRING_DATA_RIGHT_TRUNCATION {
        return None;
    }
    let limit = db
        .message()
        .split("character varying(")
        .nth(1)?
        .split(')')
        .next()?;
    let stored = format!("VARCHAR({limit})");
    let candidates = schema
        .columns
        .iter()
        .filter(|c| parameters.is_empty() || parameters.contains(&c.name))
        .filter(|c| schema.column_type(c) == stored);
    the_only(candidates).map(|c| c.name)
}

/// The one item `items` holds; `None` for none or several.
fn the_only<T>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let only = items.next()?;
    items.next().is_none().then_some(only)
}

/// Maps a driver error to a typed case. `schema` names the entity's table and
/// the column behind a constraint; `parameters` names the column each bound
/// parameter of the statement was for (`$1` first), so a refused value is
/// reported with its column.
pub(crate) fn classify(
    err: impl Into<Failure>,
    schema: Option<&'static TableSchema>,
    parameters: &[&'static str],
) -> Error {
    let err = match err.into() {
        Failure::Driver(err) => err,
        Failure::Kit(err) => return *err,
    };
    if is_unavailable(&err) {
        return Error::Unavailable(PgError::new(err));
    }
    let Some(db) = err.as_db_error() else {
        return Error::Postgres(PgError::new(err));
    };
    let code = db.code().clone();
    let known_table = db
        .table()
        .map(str::to_owned)
        .or_else(|| schema.map(|s| s.name.to_owned()));
    let table = known_table.clone().unwrap_or_default();
    let constraint = db.constraint().unwrap_or_default().to_owned();
    let constraint_column = schema.and_then(|s| s.column_of_constraint(&constraint));
    let source = PgError::new(err);
    if code == SqlState::UNIQUE_VIOLATION {
        Error::UniqueViolation {
            table,
            constraint,
            column: constraint_column,
            source,
        }
    } else if code == SqlState::FOREIGN_KEY_VIOLATION {
        Error::ForeignKeyViolation {
            table,
            constraint,
            column: constraint_column,
            source,
        }
    } else if code == SqlState::CHECK_VIOLATION {
        Error::CheckViolation {
            table,
            constraint,
            column: constraint_column,
            source,
        }
    } else if code == SqlState::NOT_NULL_VIOLATION {
        let column = source
            .db_error()
            .and_then(|db| db.column())
            .unwrap_or_default()
            .to_owned();
        Error::NotNullViolation {
            table,
            column,
            source,
        }
    } else if code == SqlState::INSUFFICIENT_PRIVILEGE {
        Error::PermissionDenied {
            table: known_table,
            source,
        }
    } else if code.code().starts_with("22") {
        let named = source.db_error().and_then(|db| db.column());
        let column = named
            .and_then(|name| schema.and_then(|s| s.column(name)).map(|c| c.name))
            .or_else(|| {
                let n = source.parameter()?;
                parameters.get(n.checked_sub(1)?).copied()
            })
            .or_else(|| overflowing_numeric(&source, schema?, parameters))
            .or_else(|| overlong_varchar(&source, schema?, parameters));
        Error::InvalidValue {
            table: known_table,
            column,
            source,
        }
    } else if code == SqlState::T_R_SERIALIZATION_FAILURE {
        Error::SerializationFailure(source)
    } else if code == SqlState::T_R_DEADLOCK_DETECTED {
        Error::Deadlock(source)
    } else if code == SqlState::LOCK_NOT_AVAILABLE {
        Error::LockNotAvailable(source)
    } else if code == SqlState::QUERY_CANCELED {
        Error::Cancelled(source)
    } else {
        Error::Postgres(source)
    }
}
