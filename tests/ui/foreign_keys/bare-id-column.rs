// A `_id` UUID column says what it references.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
