// No type prefixes on table names.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "tbl_users")]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
