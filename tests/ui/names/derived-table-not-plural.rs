// A struct named in the plural derives a non-plural table name.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Persons {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
