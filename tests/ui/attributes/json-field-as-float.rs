// A JSON field is indexed as text or an exact type.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(json(configuration, "temperature") as f64))]
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
