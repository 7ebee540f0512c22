// A column key spelt out in full is suggested by its short name.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: Uuid,
    #[column(max_length = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
