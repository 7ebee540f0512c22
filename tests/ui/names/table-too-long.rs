// Table names fit PostgreSQL's 63-byte identifier limit.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "customer_subscription_billing_reconciliation_adjustment_event_logs")]
pub struct Event {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
