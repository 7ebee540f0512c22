// The only setting inside an index list is `name`.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(name, method = "gin"))]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
