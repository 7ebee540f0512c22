use ordinance::prelude::*;

/// The table's name fits in 63 bytes, but its history's trigger function
/// (`{table}_history_write`) does not.
#[derive(Entity)]
#[entity(history, table = "quarterly_reconciliation_statements_of_regional_depots")]
pub struct Statement {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
