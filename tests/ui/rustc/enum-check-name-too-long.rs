// An enum column's generated check name fits the 63-byte limit.
use ordinance::prelude::*;

#[derive(DbEnum, Clone, Copy, Debug)]
pub enum Stage {
    Open,
    Closed,
}

#[derive(Entity)]
pub struct SubscriptionInvoiceAdjustment {
    pub id: Uuid,
    pub reconciliation_workflow_stage_of_adjustment: Stage,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
