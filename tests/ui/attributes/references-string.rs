// `references` names the entity type, not the table.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    #[column(references = "users")]
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
