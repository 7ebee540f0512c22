//! The schema document of the realistic test schema: what each part says,
//! that the order of the entities does not matter, and the drift check.

use ordinance::document::{check, markdown, DocumentDrift};
use ordinance_tests::all_schemas;

fn section<'a>(doc: &'a str, table: &str) -> &'a str {
    let start = doc
        .find(&format!("\n### `{table}`\n"))
        .unwrap_or_else(|| panic!("no section for {table} in\n{doc}"));
    let rest = &doc[start + 1..];
    let end = rest[1..].find("\n### ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

fn assert_has(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "{e:?} missing from\n{text}");
    }
}

#[test]
fn every_table_is_described_with_its_rules_waivers_and_relations() {
    let doc = markdown(&all_schemas());
    assert!(doc.starts_with(ordinance::document::GENERATED));
    assert_has(
        section(&doc, "audit_events"),
        &[
            "Convention waived: `soft_delete` — append-only ledger: rows are never removed.",
            "Convention waived: `version` — rows are never updated.",
            "| `latency_ms` | `DOUBLE PRECISION` | yes |  | Sensor-style measurement attached to some events. | convention waived: `float` — latency samples: approximate by nature |",
            "belongs to `users` through `actor_id` (many-to-one)",
            "| `idx_audit_events_action_created_at` | `(action, created_at DESC)` |",
        ],
    );
    assert!(!section(&doc, "audit_events").contains("Soft delete:"));
    assert_has(
        section(&doc, "invoices"),
        &[
            "| `amount` | `NUMERIC(12,2)` | no |  |  | `amount >= 0` |",
            "convention waived: `foreign_key` — lives in the billing provider, not in this database",
            "- Check `invoices_currency_min_length`: `CHECK (char_length(\"currency\") >= 3)`.",
        ],
    );
    assert_has(
        section(&doc, "tasks"),
        &[
            "- Foreign key `tasks_assignee_id_fkey`: `assignee_id` → `users`.`id`, `ON DELETE SET NULL`.",
            "belongs to `users` through `assignee_id` (many-to-one, optional)",
            "has `tasks` through `tasks`.`parent_id` (one-to-many, `ON DELETE RESTRICT`)",
            "many-to-many with `groups` through `task_groups` (`task_id`, `group_id`)",
            "- `status, created_at DESC, id DESC` (`Pager::order(0)`) — index `idx_tasks_status_created_at_id`.",
            "| `idx_tasks_status_created_at_id` | `(status, created_at DESC, id DESC) WHERE deleted_at IS NULL` | keyset order 0 |",
            "| `idx_tasks_organization_id_due_on` | `(organization_id, due_on) WHERE deleted_at IS NULL` | foreign key `organization_id` |",
        ],
    );
    assert_has(
        section(&doc, "organizations"),
        &[
            "has `users` through `users`.`organization_id` (one-to-many, `ON DELETE CASCADE`)",
            "has `invoices` through `invoices`.`organization_id` (one-to-many, `ON DELETE RESTRICT`)",
            "| `idx_organizations_name_unique` | `UNIQUE (name) WHERE deleted_at IS NULL` | unique among live rows |",
        ],
    );
    assert_has(
        section(&doc, "groups"),
        &["many-to-many with `tasks` through `task_groups` (`group_id`, `task_id`)"],
    );
}

#[test]
fn the_document_does_not_depend_on_the_order_of_the_entities() {
    let mut reversed = all_schemas();
    reversed.reverse();
    assert_eq!(markdown(&all_schemas()), markdown(&reversed));
}

#[test]
fn a_stale_document_is_reported_at_its_first_difference_and_can_be_rewritten() {
    let dir = std::env::temp_dir().join(format!("ordinance-doc-{}", std::process::id()));
    let path = dir.join("nested/DATABASE.md");
    let schemas = all_schemas();

    // Missing: stale at line 1, then written (folders included).
    assert_eq!(
        check(&schemas, &path, false).unwrap(),
        DocumentDrift::Stale {
            line: 1,
            checked_in: None,
            expected: Some(ordinance::document::GENERATED.to_owned()),
        }
    );
    assert_eq!(
        check(&schemas, &path, true).unwrap(),
        DocumentDrift::Written
    );
    assert_eq!(
        check(&schemas, &path, false).unwrap(),
        DocumentDrift::UpToDate
    );

    // Edited by hand: the first edited line is named.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("(many-to-one)", "(hand edit)", 1)).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("(many-to-one)"))
        .unwrap()
        + 1;
    match check(&schemas, &path, false).unwrap() {
        DocumentDrift::Stale {
            line: at,
            checked_in,
            expected,
        } => {
            assert_eq!(at, line);
            assert!(checked_in.unwrap().contains("(hand edit)"));
            assert!(expected.unwrap().contains("(many-to-one)"));
        }
        other => panic!("expected stale, got {other:?}"),
    }

    // The drift test fails, printing the command that rewrites the file.
    let failure = std::panic::catch_unwind(|| {
        ordinance::document::assert_up_to_date(&schemas, &path);
    })
    .expect_err("a stale document fails the test");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains(
            "Rewrite it with:\n    ORDINANCE_BLESS=1 cargo test -p ordinance-tests --test migrations \
             document::a_stale_document_is_reported_at_its_first_difference_and_can_be_rewritten -- --exact"
        ),
        "{message}"
    );
    assert!(message.contains(&format!("line {line}")), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}
