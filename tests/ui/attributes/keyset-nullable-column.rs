// Keyset columns are NOT NULL: NULLs drop rows from row comparisons.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(keyset(published_at desc))]
pub struct Post {
    pub id: Uuid,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
