//! How a table's enum-like columns are stored, against the policy the
//! audit runs under ([`Conventions::enums`](crate::schema::Conventions)):
//! as `TEXT` with a `CHECK (col IN (...))` (the default), or as a native
//! enum type. A column stored the other way is a finding whose fix moves
//! it, values kept.

use ordinance_naming as naming;

use super::{Finding, Rule};
use crate::ddl::{quote_ident, quote_literal};
use crate::inspect::{Enum, Table};
use crate::schema::{EnumStorage, Naming};

pub(super) fn check(
    table: &Table,
    enums: &[Enum],
    storage: EnumStorage,
    naming: &Naming,
    findings: &mut Vec<Finding>,
) {
    let ident = table.ident();
    let mut push = |column: &str, problem: String, fix: String| {
        findings.push(Finding {
            table: table.qualified_name(),
            object: Some(column.to_owned()),
            rule: Rule::EnumStorage,
            problem,
            fix,
        });
    };
    let list = |values: &[String]| -> String {
        let quoted: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
        quoted.join(", ")
    };
    match storage {
        EnumStorage::Native => {
            for check in &table.checks {
                let (Some(values), [column]) = (check.allowed_values(), check.columns.as_slice())
                else {
                    continue;
                };
                let type_name = format!("{}_{column}", naming::singularize(&table.name));
                let (c, t) = (quote_ident(column), quote_ident(&type_name));
                // A type of that name and those values is there already
                // (another column's): the column joins it.
                let create = match enums.iter().find(|e| e.qualified_name() == type_name) {
                    Some(e) if e.values == values => String::new(),
                    _ => format!("{}; ", crate::ddl::create_enum_sql(&t, &values)),
                };
                // A text default does not cast to the type by itself: it is
                // dropped around the change and set again as the value.
                let default = table
                    .column(column)
                    .and_then(|c| c.default.as_deref())
                    .and_then(|d| d.split("::").next())
                    .filter(|d| d.starts_with('\'') && d.ends_with('\''));
                let (drop_default, set_default) = match default {
                    Some(d) => (
                        format!("ALTER COLUMN {c} DROP DEFAULT, "),
                        format!(", ALTER COLUMN {c} SET DEFAULT {d}"),
                    ),
                    None => (String::new(), String::new()),
                };
                push(
                    column,
                    format!(
                        "its values are kept by the check {:?}; the policy stores enums as native enum types",
                        check.name
                    ),
                    format!(
                        "{create}ALTER TABLE {ident} DROP CONSTRAINT {}, {drop_default}\
                         ALTER COLUMN {c} TYPE {t} USING {c}::{t}{set_default}; -- rewrites the table; the entity's \
                         DbEnum names the type after itself",
                        quote_ident(&check.name)
                    ),
                );
            }
        }
        _ => {
            for column in &table.columns {
                let Some(e) = enums
                    .iter()
                    .find(|e| e.name == column.sql_type || e.qualified_name() == column.sql_type)
                else {
                    continue;
                };
                let c = quote_ident(&column.name);
                let check = naming.check(&table.name, &column.name, "valid");
                push(
                    &column.name,
                    format!(
                        "stored as the native enum type {:?}; the policy stores enums as TEXT with \
                         CHECK (col IN (...))",
                        column.sql_type
                    ),
                    format!(
                        "ALTER TABLE {ident} ALTER COLUMN {c} TYPE text USING {c}::text, \
                         ADD CONSTRAINT {} CHECK ({c} IN ({})); -- rewrites the table; or keep the type \
                         with types.enums = \"native\" in the team's policy",
                        quote_ident(&check),
                        list(&e.values)
                    ),
                );
            }
        }
    }
}
