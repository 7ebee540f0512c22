// `created_by` / `updated_by` hold the actor's id, filled in by the kit.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    #[column(max_len = 100)]
    pub created_by: String,
    #[column(default = "00000000-0000-0000-0000-000000000000")]
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
