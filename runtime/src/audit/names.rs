//! The names of a table's primary key, foreign keys, checks and indexes,
//! against the naming policy the audit runs under
//! ([`AuditOptions::conventions`](super::AuditOptions::conventions)): each name
//! that differs is a finding whose fix renames it in place (no drop, no
//! rebuild).

use super::{Finding, Rule};
use crate::ddl::quote_ident;
use crate::inspect::{Index, Key, Table};
use crate::schema::Naming;

/// The predicate a soft-deleting table's indexes carry, as the server
/// prints it.
const LIVE_ROWS: &str = "(deleted_at IS NULL)";

pub(super) fn check(table: &Table, naming: &Naming, findings: &mut Vec<Finding>) {
    let ident = table.ident();
    let mut push = |object: &str, what: &str, expected: String, fix: String| {
        findings.push(Finding {
            table: table.qualified_name(),
            object: Some(object.to_owned()),
            rule: Rule::ObjectName,
            problem: format!(
                "the {what} {object:?} is not named {expected:?}, as the naming policy says"
            ),
            fix,
        });
    };
    let rename_constraint = |from: &str, to: &str| {
        format!(
            "ALTER TABLE {ident} RENAME CONSTRAINT {} TO {};",
            quote_ident(from),
            quote_ident(to)
        )
    };
    if let Some(pk) = &table.primary_key {
        let expected = naming.primary_key(&table.name);
        if pk.name != expected {
            let fix = rename_constraint(&pk.name, &expected);
            push(&pk.name, "primary key", expected, fix);
        }
    }
    for fk in &table.foreign_keys {
        if let [column] = fk.columns.as_slice() {
            let expected = naming.foreign_key(&table.name, column, &fk.references);
            if fk.name != expected {
                let fix = rename_constraint(&fk.name, &expected);
                push(&fk.name, "foreign key", expected, fix);
            }
        }
    }
    for check in &table.checks {
        let Some(expected) = expected_check(table, check, naming) else {
            continue;
        };
        if check.name != expected {
            let fix = rename_constraint(&check.name, &expected);
            push(&check.name, "check constraint", expected, fix);
        }
    }
    for index in &table.indexes {
        let Some(accepted) = expected_index(table, index, naming) else {
            continue;
        };
        if !accepted.contains(&index.name) {
            let expected = accepted.into_iter().next().unwrap_or_default();
            let fix = format!(
                "ALTER INDEX {} RENAME TO {};",
                table.sql_name(&index.name),
                quote_ident(&expected)
            );
            let what = if index.unique {
                "unique index"
            } else {
                "index"
            };
            push(&index.name, what, expected, fix);
        }
    }
}

/// The name a one-column check should have, when what it tests is one of
/// the kit's rules (a check of any other shape is the team's own).
fn expected_check(table: &Table, check: &Key, naming: &Naming) -> Option<String> {
    let [column] = check.columns.as_slice() else {
        return None;
    };
    let def = check.definition.to_ascii_lowercase();
    // A compound condition is the team's own, never one of the kit's.
    if def.contains(" and ") || def.contains(" or ") {
        return None;
    }
    let rule = if def.contains("char_length(") {
        if def.contains("<=") {
            "max_length"
        } else if def.contains(">=") {
            "min_length"
        } else {
            return None;
        }
    } else if def.contains("array_position(") {
        "no_nulls"
    } else if def.contains("= any (") || def.contains(" in (") {
        "valid"
    } else if def.contains(">=") {
        "min"
    } else if def.contains("<=") {
        "max"
    } else {
        return None;
    };
    Some(naming.check(&table.name, column, rule))
}

/// The names a plain-column index may have (a tenant table's unique key
/// leads with `tenant_id`, which its name leaves out), first the one to
/// suggest; `None` for an index the policy does not name: one backing a
/// constraint, invalid, on expressions, or partial beyond live rows.
fn expected_index(table: &Table, index: &Index, naming: &Naming) -> Option<Vec<String>> {
    // An invalid index is reported (and rebuilt) on its own.
    if index.backs_constraint || !index.valid {
        return None;
    }
    if index.predicate.as_deref().is_some_and(|p| p != LIVE_ROWS) {
        return None;
    }
    let columns: Option<Vec<&str>> = index.columns.iter().map(Option::as_deref).collect();
    let columns = columns?;
    let mut accepted = vec![naming.index(&table.name, &columns, index.unique)];
    if let Some(rest) = columns.strip_prefix(&["tenant_id"]) {
        if !rest.is_empty() {
            accepted.insert(0, naming.index(&table.name, rest, index.unique));
        }
    }
    Some(accepted)
}
