// The conventions decide the audit columns' values; a backfill only makes
// sense for a column that becomes NOT NULL; a default is a literal, not an
// expression.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Item {
    pub id: Uuid,
    #[column(backfill = "none")]
    pub note: Option<String>,
    #[column(default = compute())]
    pub stock: i32,
    pub created_at: DateTime<Utc>,
    #[column(default = now)]
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    #[column(default = 1)]
    pub version: i32,
}

fn main() {}
