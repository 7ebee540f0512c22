//! The trait `#[derive(Entity)]` implements.

use crate::schema::TableSchema;

/// A struct mapped to a table that follows the conventions.
///
/// Implemented by `#[derive(Entity)]`, never by hand: the derive checks the
/// conventions before it writes the implementation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "`{Self}` does not derive `Entity`",
    note = "`references = ...` and the repository take a struct with `#[derive(Entity)]`"
)]
pub trait Entity: Sized + 'static {
    /// The table name, e.g. `users`.
    const TABLE: &'static str;
    /// The static description of the table.
    const SCHEMA: &'static TableSchema;
    /// The generated column enum (`UserColumn`), usable in sea-query expressions.
    type Column: sea_query::Iden + Copy + Eq + 'static;
}

/// Looks a generated column enum's name up in the entity's schema; the enum's
/// discriminants are the column positions.
#[doc(hidden)]
pub fn column_name(schema: &'static TableSchema, position: usize) -> &'static str {
    schema.columns[position].name
}
