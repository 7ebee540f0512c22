// The scale cannot exceed the precision.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Invoice {
    pub id: Uuid,
    #[column(precision = 4, scale = 6)]
    pub amount: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
