// Generated check constraint names fit the 63-byte limit.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct SubscriptionInvoiceAdjustment {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub external_reconciliation_reference: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
