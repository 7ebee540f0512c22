// A scale needs a precision.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Invoice {
    pub id: Uuid,
    #[column(scale = 2)]
    pub amount: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
