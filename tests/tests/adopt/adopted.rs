//! Entities adopted from an existing database (`ordinance::adopt`).
//! Review them, then check the database against them with the drift
//! check; `// adopt:` notes say what they do not describe exactly.

use ordinance::prelude::*;

/// The values of `purchase_orders.status`.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurchaseOrderStatus {
    Open,
    Sent,
    Received,
}

#[derive(Entity, Debug, Clone)]
#[entity(index(status, created_at))]
pub struct PurchaseOrder {
    pub id: Uuid,
    #[column(references = Vendor, on_delete = "cascade")]
    pub vendor_id: Uuid,
    #[column(exempt(foreign_key = "adopted: no foreign key in the database"))]
    pub buyer_id: Uuid,
    #[column(unique, min_len = 3)]
    pub reference: String,
    #[column(default = "open")]
    pub status: PurchaseOrderStatus,
    #[column(precision = 12, scale = 2, default = 0)]
    pub total: Decimal,
    #[column(min = 0, default = 0)]
    pub lines: i32,
    pub notes: Option<String>,
    #[column(default = [])]
    pub tags: Vec<Option<String>>,
    #[column(default = [])]
    pub quantities: Vec<i32>,
    #[column(precision = 8, scale = 2)]
    pub unit_prices: Option<Vec<Option<Decimal>>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Debug, Clone)]
#[entity(tenant)]
pub struct Shipment {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(unique, max_len = 40)]
    pub tracking: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Companies we buy from.
#[derive(Entity, Debug, Clone)]
#[entity(exempt(
    soft_delete = "adopted: the table has no deleted_at",
    version = "adopted: the table has no version"
))]
pub struct Vendor {
    pub id: Uuid,
    /// Trading name.
    #[column(max_len = 120)]
    pub name: String,
    #[column(
        default = true,
        exempt(boolean_name = "adopted: the column's existing name")
    )]
    pub active: bool,
    #[column(exempt(float = "adopted: the column's existing type"))]
    pub rating: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every adopted table, for DDL, migrations and the drift check.
pub fn schemas() -> Vec<&'static ordinance::TableSchema> {
    vec![PurchaseOrder::SCHEMA, Shipment::SCHEMA, Vendor::SCHEMA]
}

// adopt: left out audit_log: its primary key is not `id uuid`
