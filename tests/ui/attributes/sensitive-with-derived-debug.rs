// An entity with a sensitive column gets its Debug from the derive (the
// value shown as `<redacted>`); deriving Debug as well would print it.
use ordinance::prelude::*;

#[derive(Entity, Debug)]
pub struct Patient {
    pub id: Uuid,
    #[column(max_len = 320, sensitive)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
