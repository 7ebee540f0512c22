//! Why a migration failed, in the terms of its fix: a role row-level
//! security holds to some rows, or rows that break a constraint being
//! validated (and how many).

use tokio_postgres::Client;

use crate::error::Error;

/// Turns a migration's failure into the error that says what to do: a
/// refusal by row-level security becomes [`Error::MigrationRowSecurity`]
/// (the role and the tables that hold it), a failed validation
/// [`Error::MigrationValidationFailed`] (how many rows break the
/// constraint). Anything else, or a question the server cannot answer, is
/// returned as it was. Runs after the failed statement's transaction
/// ended.
pub(super) async fn explain(client: &Client, err: Error) -> Error {
    enum Cause {
        RowSecurity,
        Validation { table: String, constraint: String },
    }
    let cause = match &err {
        Error::MigrationFailed { source, .. } => match &**source {
            Error::PermissionDenied { .. } => Cause::RowSecurity,
            Error::CheckViolation {
                table, constraint, ..
            } if !constraint.is_empty() => Cause::Validation {
                table: table.clone(),
                constraint: constraint.clone(),
            },
            _ => return err,
        },
        _ => return err,
    };
    let Error::MigrationFailed {
        version,
        name,
        statement,
        sql,
        source,
    } = err
    else {
        return err;
    };
    match cause {
        Cause::RowSecurity => match held_by_row_security(client).await {
            Some((role, tables)) if !tables.is_empty() => {
                return Error::MigrationRowSecurity {
                    version,
                    name,
                    role,
                    tables,
                    source,
                }
            }
            _ => {}
        },
        Cause::Validation { table, constraint } => {
            if let Some(violating) = violating(client, &table, &constraint).await {
                return Error::MigrationValidationFailed {
                    version,
                    name,
                    table,
                    constraint,
                    violating,
                    source,
                };
            }
        }
    }
    // Nothing more to say: the failure as it was.
    Error::MigrationFailed {
        version,
        name,
        statement,
        sql,
        source,
    }
}

/// The session's role and, unless it bypasses row-level security (a
/// superuser, or `BYPASSRLS`), the tables whose policies hold it: forced on
/// their owner, or not its own.
async fn held_by_row_security(client: &Client) -> Option<(String, Vec<String>)> {
    let row = client
        .query_opt(
            "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .ok()??;
    let role: String = crate::row::read(&row, 0, "pg_roles", "rolname").ok()?;
    let bypasses: bool = crate::row::read(&row, 1, "pg_roles", "bypass").ok()?;
    if bypasses {
        return Some((role, Vec::new()));
    }
    let rows = client
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c \
             WHERE c.relrowsecurity AND c.relkind IN ('r', 'p') \
             AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) \
             ORDER BY 1",
            &[],
        )
        .await
        .ok()?;
    let tables = rows
        .iter()
        .filter_map(|r| crate::row::read::<String>(r, 0, "pg_class", "table").ok())
        .collect();
    Some((role, tables))
}

/// How many rows of `table` break check `constraint`, counted by the
/// constraint's own expression as the catalog prints it.
async fn violating(client: &Client, table: &str, constraint: &str) -> Option<i64> {
    let row = client
        .query_opt(
            "SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.conname = $1 AND c.contype = 'c' AND t.relname = $2",
            &[&constraint, &table],
        )
        .await
        .ok()??;
    let relation: String = crate::row::read(&row, 0, "pg_constraint", "table").ok()?;
    let definition: String = crate::row::read(&row, 1, "pg_constraint", "definition").ok()?;
    let expression = definition
        .strip_prefix("CHECK ")?
        .trim_end_matches(" NOT VALID");
    // Both pieces are the catalog's own text (a quoted name, the
    // constraint's expression): no value of anyone's reaches this SQL.
    let count = client
        .query_one(
            &format!("SELECT count(*) FROM {relation} WHERE ({expression}) IS FALSE"),
            &[],
        )
        .await
        .ok()?;
    crate::row::read(&count, 0, "violating rows", "count").ok()
}
