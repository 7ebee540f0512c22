use ordinance::prelude::*;

/// Not marked as a root.
#[derive(Entity)]
pub struct Order {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A line that says it belongs to an order's aggregate.
#[derive(Entity)]
pub struct OrderLine {
    pub id: Uuid,
    #[column(references = Order, aggregate)]
    pub order_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// `aggregate` on a column that references nothing.
#[derive(Entity)]
pub struct Note {
    pub id: Uuid,
    #[column(aggregate)]
    pub order_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A root without `version`.
#[derive(Entity)]
#[entity(aggregate_root, exempt(version = "append-only"))]
pub struct Ledger {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

fn main() {}
