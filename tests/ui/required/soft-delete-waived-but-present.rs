// A waiver for a column the entity has anyway is a contradiction.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(exempt(soft_delete = "append-only"))]
pub struct Event {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
