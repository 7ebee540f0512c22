// `json(...)` reads a field of a JSONB column only.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(json(name, "first") as i32))]
pub struct Agent {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub name: String,
    pub configuration: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
