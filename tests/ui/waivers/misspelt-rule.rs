// A misspelt rule name is answered with the rule meant.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(exempt(soft_delet = "an append-only log"))]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
