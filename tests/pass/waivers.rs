// Every waivable rule can be waived with a reason, and the reason is kept in the schema.
use ordinance::prelude::*;
use ordinance::Entity;

/// An append-only ledger of money movements.
#[derive(Entity)]
#[entity(
    table = "ledger",
    exempt(
        plural = "the accounting team's established name",
        soft_delete = "append-only ledger: rows are never removed",
        version = "rows are never updated"
    )
)]
pub struct LedgerEntry {
    pub id: Uuid,
    #[column(exempt(foreign_key = "lives in the payment provider"))]
    pub provider_account_id: Uuid,
    #[column(exempt(float = "exchange-rate snapshot for display only"))]
    pub display_rate: f64,
    #[column(exempt(boolean_name = "column name fixed by the reporting export"))]
    pub reconciled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let s = LedgerEntry::SCHEMA;
    assert_eq!(s.name, "ledger");
    assert!(!s.soft_deletes() && !s.versioned());
    let rules: Vec<_> = s.waivers.iter().map(|w| w.rule).collect();
    assert_eq!(rules, ["plural", "soft_delete", "version"]);
    let field_rules: Vec<_> = s
        .columns
        .iter()
        .flat_map(|c| c.waivers.iter().map(move |w| (c.name, w.rule, w.reason)))
        .collect();
    assert_eq!(
        field_rules,
        [
            ("provider_account_id", "foreign_key", "lives in the payment provider"),
            ("display_rate", "float", "exchange-rate snapshot for display only"),
            ("reconciled", "boolean_name", "column name fixed by the reporting export"),
        ]
    );
    let ddl = ordinance::ddl::create_table(s);
    assert!(ddl.contains(
        "COMMENT ON TABLE \"ledger\" IS 'An append-only ledger of money movements.\n\
         Convention waived: plural (the accounting team''s established name)\n"
    ));
    // Without soft delete, indexes are not partial.
    assert!(!ddl.contains("WHERE"));
}
