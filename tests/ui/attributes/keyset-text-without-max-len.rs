// A text sort key declares max_len: a cursor carries the key, so an
// unbounded key makes a cursor some page cannot have.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(keyset(title asc))]
pub struct Post {
    pub id: Uuid,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
