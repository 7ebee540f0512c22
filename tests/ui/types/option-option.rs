// A column is NULL or a value, not two kinds of nothing.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Profile {
    pub id: Uuid,
    pub nickname: Option<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
