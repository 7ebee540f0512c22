// PostgreSQL has no unsigned integers.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Profile {
    pub id: Uuid,
    pub login_count: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
