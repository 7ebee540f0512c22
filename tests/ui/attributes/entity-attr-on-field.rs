// `#[entity]` goes on the struct.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    #[entity(table = "users")]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
