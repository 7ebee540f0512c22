// Table names are plural.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "account")]
pub struct Account {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
