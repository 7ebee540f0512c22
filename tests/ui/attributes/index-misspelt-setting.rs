// A misspelt index setting is answered with the setting meant.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(index(name, nme = "ix_users_name"))]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
