// `deleted_by` records who soft-deleted a row: `Option<Uuid>`, and only on
// an entity that soft-deletes.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub deleted_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
#[entity(exempt(soft_delete = "append-only: entries are never removed"))]
pub struct LedgerEntry {
    pub id: Uuid,
    pub amount: Decimal,
    pub deleted_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn main() {}
