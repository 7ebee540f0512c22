// `gin(column)` is for JSONB and array columns.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(gin(name)))]
pub struct Agent {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
