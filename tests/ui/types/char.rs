// A Rust char is not a PostgreSQL "char".
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Profile {
    pub id: Uuid,
    pub grade: char,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
