//! The statements of a batch insert through a staging table: what lets a
//! batch into a table under row-level security, where PostgreSQL refuses
//! `COPY`, keep the speed of binary `COPY`.
//!
//! The rows are copied into a temporary table of the insert's columns
//! (`COPY` into it is allowed: row-level security is not on it), then
//! moved into the table with one `INSERT … SELECT`, which the policies
//! check row by row and which returns the rows as stored.

use super::statements::column_list;
use crate::ddl::quote_ident;
use crate::ddl::table_ident;
use crate::schema::{SqlType, TableSchema};

/// The staging table, in the session's own temporary schema: its name
/// never meets an application table's.
const STAGE: &str = "pg_temp.\"ordinance_batch\"";

/// Drops the staging table: each batch drops its own before it ends, so
/// the next one (in the same transaction, or on the same session) starts
/// afresh.
pub const DROP_STAGE: &str = "DROP TABLE pg_temp.\"ordinance_batch\"";

/// [`DROP_STAGE`] when there may be none: before a statement catalog
/// creates it to prove a batch's insert.
#[cfg(any(feature = "tools", feature = "testing"))]
pub(crate) const DROP_STAGE_IF_EXISTS: &str = "DROP TABLE IF EXISTS pg_temp.\"ordinance_batch\"";

/// The fixed statements of a staged batch insert into one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedInsert {
    /// `CREATE TEMP TABLE` with the insert's columns, at
    /// their wire types (a `NUMERIC(12,2)` column is staged as `NUMERIC`,
    /// so the table's own column rounds and checks, as a single insert's).
    pub create: String,
    /// `COPY` into the staging table: the insert's columns, binary.
    pub copy_in: String,
    /// `INSERT INTO … SELECT … FROM` the staging table, `RETURNING` every
    /// column. Into a tenant table it carries the tenant condition, so with
    /// no tenant set it inserts nothing.
    pub insert: String,
    /// [`insert`](Self::insert) without `RETURNING`: a count.
    pub insert_count: String,
}

impl StagedInsert {
    /// Renders the statements of `schema`'s table.
    pub fn new(schema: &'static TableSchema) -> Self {
        let columns: Vec<String> = schema
            .insert_columns()
            .map(|c| quote_ident(c.name))
            .collect();
        let definitions: Vec<String> = schema
            .insert_columns()
            .map(|c| format!("{} {}", quote_ident(c.name), staged_type(&c.sql_type)))
            .collect();
        let list = columns.join(", ");
        let guard = if schema.tenant {
            format!(" WHERE {}", crate::schema::tenant_is_set())
        } else {
            String::new()
        };
        let insert_count = format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {STAGE}{guard}",
            table_ident(schema)
        );
        StagedInsert {
            create: format!("CREATE TEMP TABLE {STAGE} ({})", definitions.join(", ")),
            copy_in: format!("COPY {STAGE} ({list}) FROM STDIN (FORMAT binary)"),
            insert: format!("{insert_count} RETURNING {}", column_list(schema)),
            insert_count,
        }
    }
}

/// A column's type in the staging table: its type on the wire, without
/// the precision and scale the table's column applies (a native enum is
/// staged as itself: binary `COPY` reads its text label).
fn staged_type(sql_type: &SqlType) -> String {
    match sql_type {
        SqlType::Numeric { .. } => "NUMERIC".to_owned(),
        SqlType::Array(element) => format!("{}[]", staged_type(element)),
        other => other.sql().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_numeric_drops_its_precision() {
        const NUMERIC: SqlType = SqlType::Numeric {
            precision: Some(12),
            scale: Some(2),
        };
        assert_eq!(staged_type(&NUMERIC), "NUMERIC");
        assert_eq!(staged_type(&SqlType::Array(&NUMERIC)), "NUMERIC[]");
        assert_eq!(staged_type(&SqlType::Array(&SqlType::Text)), "TEXT[]");
    }
}
