// `on_delete` only makes sense on a foreign key.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    #[column(on_delete = "cascade")]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
