// Floats lose money: f64 is rejected.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Profile {
    pub id: Uuid,
    pub price: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
