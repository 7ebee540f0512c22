// Bounds that exclude every value are rejected.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    #[column(min = 10, max = 1)]
    pub age: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
