// precision / scale apply to Decimal.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Invoice {
    pub id: Uuid,
    #[column(precision = 10)]
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
