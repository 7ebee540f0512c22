// A tenant table needs the column its rows are isolated by.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(tenant)]
pub struct Note {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
