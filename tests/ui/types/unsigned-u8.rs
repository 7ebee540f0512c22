// PostgreSQL has no unsigned 8-bit integer.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Profile {
    pub id: Uuid,
    pub age: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
