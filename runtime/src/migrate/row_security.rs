//! Row-level security and its policies in migrations: which switch and
//! which policy goes in which phase.

use super::catalog::Table;
use super::diff::Step;
use crate::ddl::{self, quote_ident};
use crate::inspect::{Policy, RowSecurity};
use crate::schema::TableSchema;

/// The `ALTER TABLE`s that turn row-level security from `from` to `to`.
pub(super) fn row_security_switches(t: &str, from: RowSecurity, to: RowSecurity) -> Vec<String> {
    let mut out = Vec::new();
    if from.enabled != to.enabled {
        out.push(ddl::enable_row_security(t, to.enabled));
    }
    if from.forced != to.forced {
        out.push(ddl::force_row_security(t, to.forced));
    }
    out
}

/// Row-level security and its policies, for rolling deploys:
/// - a new policy is added in the expand phase when it binds no one yet
///   (row-level security is off) or only lets more rows through (it is
///   permissive); otherwise, and when changed or dropped (dropped and
///   created again in one transaction), in the contract phase;
/// - turning row-level security on, or forcing it on the owner, binds the
///   previous version, which may not set what the policies read: contract
///   phase, after the policies exist. Turning it off relaxes: expand phase.
///
/// A new policy is written as the entity renders it when the entity has it,
/// else as the server normalised it.
pub(super) fn alter_row_security(
    t: &str,
    old: &Table,
    new: &Table,
    schema: Option<&'static TableSchema>,
    change: &mut Step,
    contract: &mut Step,
) {
    let drop = |name: &str| format!("DROP POLICY {} ON {t}", quote_ident(name));
    let create = |name: &str, policy: &Policy| {
        schema
            .filter(|_| name == ddl::TENANT_POLICY)
            .and_then(ddl::tenant_policy)
            .unwrap_or_else(|| policy.create(t))
    };
    for (name, policy) in &new.policies {
        match old.policies.get(name) {
            None => {
                let step = if !old.row_security.enabled || policy.permissive {
                    &mut *change
                } else {
                    &mut *contract
                };
                step.up.push(create(name, policy));
                step.down.push(drop(name));
            }
            Some(prev) if prev != policy => {
                contract.up.push(drop(name));
                contract.up.push(create(name, policy));
                // Downs run reversed: drop the new one, then create the old.
                contract.down.push(prev.create(t));
                contract.down.push(drop(name));
            }
            Some(_) => {}
        }
    }
    for (name, prev) in &old.policies {
        if !new.policies.contains_key(name) {
            contract.up.push(drop(name));
            contract.down.push(prev.create(t));
        }
    }
    // Relaxing (a switch turned off) in the expand phase, tightening (a
    // switch turned on) in the contract phase; each down undoes its own.
    let (from, to) = (old.row_security, new.row_security);
    let relaxed = RowSecurity {
        enabled: from.enabled && to.enabled,
        forced: from.forced && to.forced,
    };
    change.up.extend(row_security_switches(t, from, relaxed));
    change.down.extend(row_security_switches(t, relaxed, from));
    contract.up.extend(row_security_switches(t, relaxed, to));
    contract.down.extend(row_security_switches(t, to, relaxed));
}
