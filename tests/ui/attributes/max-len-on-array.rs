// `max_len` is for text columns, not arrays of text.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Reading {
    pub id: Uuid,
    #[column(max_len = 20)]
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
