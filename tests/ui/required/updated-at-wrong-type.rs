// `updated_at` is a DateTime<Utc>.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: i64,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
