use ordinance::prelude::*;

/// Named `members` in the database, not `users` as the struct name says.
#[derive(Entity, Debug)]
#[entity(table = "members")]
pub struct User {
    pub id: Uuid,
    #[column(max_len = 320, unique)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Debug)]
pub struct Post {
    pub id: Uuid,
    #[column(references = User)]
    pub author_id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}
