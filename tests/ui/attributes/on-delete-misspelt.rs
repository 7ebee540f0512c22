// A misspelt `on_delete` action is answered with the action meant.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    #[column(references = User, on_delete = "cascde")]
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
