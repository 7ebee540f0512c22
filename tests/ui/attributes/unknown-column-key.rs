// Unknown keys are errors that list the valid ones.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    #[column(maxlen = 10)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
