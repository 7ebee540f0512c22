// Two indexes cannot share a name.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(name, name = "idx_users_lookup"), index(email, name = "idx_users_lookup"))]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
