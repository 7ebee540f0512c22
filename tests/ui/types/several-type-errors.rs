// Every type error of an entity is reported in one compile.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Product {
    pub id: Uuid,
    pub price: f64,
    pub stock: u32,
    pub released_at: chrono::NaiveDateTime,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
