// Directions are asc or desc.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(keyset(created_at descending))]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
