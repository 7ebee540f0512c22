// Every naming error of an entity is reported in one compile.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "user")]
pub struct User {
    pub id: Uuid,
    pub active: bool,
    pub str_title: String,
    #[column(name = "lastName")]
    pub last_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
