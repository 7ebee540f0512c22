// An entity describes one table, so it is not generic.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Item<T> {
    pub id: Uuid,
    pub value: T,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
