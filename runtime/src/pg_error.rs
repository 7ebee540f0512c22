//! What PostgreSQL or the driver reported, rendered in full but without the
//! values a statement carried.
//!
//! tokio-postgres's `Error` displays as `db error`; the server's report
//! (SQLSTATE, message, detail, hint, table, column, constraint) sits behind
//! `as_db_error()`, where a caller logging `{err}` never sees it. [`PgError`]
//! renders all of it on one line. Parts of a report that quote row values
//! back (`Key (email)=(ada@example.com) already exists.`, `Failing row
//! contains (...)`, `invalid input syntax for type uuid: "..."`) have the
//! values replaced by `<redacted>`, so bound values never reach a log
//! through an error. The unredacted report stays reachable through
//! [`PgError::db_error`] for code that decides to show it.

use std::fmt;

use tokio_postgres::error::{DbError, SqlState};

/// An error from PostgreSQL or the driver, with the server's report.
///
/// `Display` gives severity, SQLSTATE, message, detail, hint, and the schema,
/// table, column, data type and constraint the server named, e.g.
///
/// ```text
/// ERROR 23505: duplicate key value violates unique constraint "idx_users_email_unique"; DETAIL: Key (email)=(<redacted>) already exists.; table "public.users"; constraint "idx_users_email_unique"
/// ```
///
/// Errors that did not come from the server (a refused connection, a
/// dropped socket) display the driver's words and their cause:
/// `error connecting to server: Connection refused (os error 111)`.
pub struct PgError(Repr);

enum Repr {
    Driver(tokio_postgres::Error),
    /// No connection could be opened in time (the pool's create timeout).
    ConnectTimeout(std::time::Duration),
}

impl PgError {
    /// Wraps a driver error.
    pub fn new(err: tokio_postgres::Error) -> Self {
        PgError(Repr::Driver(err))
    }

    /// No new connection could be opened within `waited`.
    pub(crate) fn connect_timeout(waited: std::time::Duration) -> Self {
        PgError(Repr::ConnectTimeout(waited))
    }

    /// The SQLSTATE, when the server reported the error.
    pub fn code(&self) -> Option<&SqlState> {
        self.driver_error()?.code()
    }

    /// The server's full report, values included: show it only where the
    /// values a statement carried may be seen.
    pub fn db_error(&self) -> Option<&DbError> {
        self.driver_error()?.as_db_error()
    }

    /// The driver's error, if the driver reported one.
    pub fn driver_error(&self) -> Option<&tokio_postgres::Error> {
        match &self.0 {
            Repr::Driver(e) => Some(e),
            Repr::ConnectTimeout(_) => None,
        }
    }

    /// The driver's error, by value.
    pub fn into_driver_error(self) -> Option<tokio_postgres::Error> {
        match self.0 {
            Repr::Driver(e) => Some(e),
            Repr::ConnectTimeout(_) => None,
        }
    }

    /// The parameter (`$n`, counting from 1) the server names in the error's
    /// context, as it does when it refuses a bound value.
    pub(crate) fn parameter(&self) -> Option<usize> {
        let context = self.db_error()?.where_()?;
        let at = context.find("parameter $")? + "parameter $".len();
        let digits: String = context[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

impl From<tokio_postgres::Error> for PgError {
    fn from(err: tokio_postgres::Error) -> Self {
        PgError::new(err)
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Driver(err) => write_driver_error(err, f),
            Repr::ConnectTimeout(waited) => {
                write!(f, "no connection to the server opened within {waited:?}")
            }
        }
    }
}

/// A driver error as [`PgError`] shows it: the server's report with values
/// redacted, or the driver's words and their causes.
pub(crate) fn write_driver_error(
    err: &tokio_postgres::Error,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    {
        let Some(db) = err.as_db_error() else {
            // The driver's own words, then each cause ("error connecting to
            // server: Connection refused (os error 111)").
            write!(f, "{err}")?;
            let mut cause = std::error::Error::source(err);
            while let Some(c) = cause {
                write!(f, ": {c}")?;
                cause = c.source();
            }
            return Ok(());
        };
        let code = db.code();
        write!(
            f,
            "{} {}: {}",
            db.severity(),
            code.code(),
            redact_message(code, db.message())
        )?;
        if let Some(detail) = db.detail() {
            write!(f, "; DETAIL: {}", redact_detail(code, detail))?;
        }
        if let Some(hint) = db.hint() {
            write!(f, "; HINT: {hint}")?;
        }
        match (db.schema(), db.table()) {
            (Some(schema), Some(table)) => write!(f, "; table \"{schema}.{table}\"")?,
            (None, Some(table)) => write!(f, "; table \"{table}\"")?,
            _ => {}
        }
        if let Some(column) = db.column() {
            write!(f, "; column \"{column}\"")?;
        }
        if let Some(datatype) = db.datatype() {
            write!(f, "; type \"{datatype}\"")?;
        }
        if let Some(constraint) = db.constraint() {
            write!(f, "; constraint \"{constraint}\"")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The derived Debug of the driver's error prints the whole server
        // report, values included: show the redacted rendering instead.
        f.debug_tuple("PgError").field(&self.to_string()).finish()
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // A server report is rendered in full above, and its own Display
        // would print the values again; other errors keep their cause.
        match &self.0 {
            Repr::Driver(err) if err.as_db_error().is_none() => std::error::Error::source(err),
            _ => None,
        }
    }
}

const REDACTED: &str = "<redacted>";

/// Whether errors of this SQLSTATE quote the offending values back: data
/// exceptions (class 22) and integrity violations (class 23).
fn quotes_values(code: &SqlState) -> bool {
    code.code().starts_with("22") || code.code().starts_with("23")
}

/// `invalid input syntax for type uuid: "abc"` keeps its words and loses
/// the quoted value.
fn redact_message<'m>(code: &SqlState, message: &'m str) -> std::borrow::Cow<'m, str> {
    if !quotes_values(code) {
        return message.into();
    }
    match message.find(": \"") {
        Some(at) => format!("{}: \"{REDACTED}\"", &message[..at]).into(),
        None => message.into(),
    }
}

/// Details of integrity and data errors with the row values taken out:
/// `Key (email)=(<redacted>) already exists.`, `Failing row contains
/// (<redacted>).`; other details of those classes keep their words but not
/// what they quote.
fn redact_detail(code: &SqlState, detail: &str) -> String {
    if !quotes_values(code) {
        return detail.to_owned();
    }
    if detail.starts_with("Failing row contains") {
        return format!("Failing row contains ({REDACTED}).");
    }
    if let Some(rest) = detail.strip_prefix("Key (") {
        if let Some(end) = rest.find(")=(") {
            let columns = &rest[..end];
            // What follows the values is one of PostgreSQL's fixed phrases;
            // searched from the end, so a value holding one cannot leak.
            let tail = if rest.ends_with(" already exists.") {
                " already exists."
            } else if let Some(at) = rest.rfind(" is not present in table ") {
                &rest[at..]
            } else if let Some(at) = rest.rfind(" is still referenced from table ") {
                &rest[at..]
            } else if rest.contains(" conflicts with existing key") {
                // It quotes the other row's values too.
                " conflicts with existing key."
            } else {
                "."
            };
            return format!("Key ({columns})=({REDACTED}){tail}");
        }
    }
    // Anything quoted may be a value.
    let mut out = String::with_capacity(detail.len());
    let mut quoted = false;
    for c in detail.chars() {
        if c == '"' {
            if !quoted {
                out.push('"');
                out.push_str(REDACTED);
            } else {
                out.push('"');
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_are_redacted_and_columns_kept() {
        let code = SqlState::UNIQUE_VIOLATION;
        assert_eq!(
            redact_detail(&code, "Key (email)=(ada@example.com) already exists."),
            "Key (email)=(<redacted>) already exists."
        );
        assert_eq!(
            redact_detail(
                &SqlState::FOREIGN_KEY_VIOLATION,
                "Key (organization_id)=(5b1c) is not present in table \"organizations\"."
            ),
            "Key (organization_id)=(<redacted>) is not present in table \"organizations\"."
        );
        assert_eq!(
            redact_detail(
                &SqlState::NOT_NULL_VIOLATION,
                "Failing row contains (1, secret, null)."
            ),
            "Failing row contains (<redacted>)."
        );
        // A value holding the tail phrase itself cannot smuggle text out.
        assert_eq!(
            redact_detail(&code, "Key (a)=(x already exists. secret) already exists."),
            "Key (a)=(<redacted>) already exists."
        );
    }

    #[test]
    fn quoted_values_in_data_errors_are_redacted() {
        let code = SqlState::INVALID_TEXT_REPRESENTATION;
        assert_eq!(
            redact_message(&code, "invalid input syntax for type uuid: \"not-a-uuid\""),
            "invalid input syntax for type uuid: \"<redacted>\""
        );
        assert_eq!(
            redact_detail(&code, "Token \"secret\" is invalid."),
            "Token \"<redacted>\" is invalid."
        );
        // Other classes keep their words.
        assert_eq!(
            redact_message(&SqlState::UNDEFINED_TABLE, "relation \"x\" does not exist"),
            "relation \"x\" does not exist"
        );
    }
}
