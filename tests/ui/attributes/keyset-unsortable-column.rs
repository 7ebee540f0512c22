// Keyset columns need a total order a cursor can carry: not JSON, arrays or floats.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(keyset(metadata asc), keyset(tags asc, created_at desc))]
pub struct Post {
    pub id: Uuid,
    pub metadata: serde_json::Value,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
