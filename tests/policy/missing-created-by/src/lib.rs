use ordinance::prelude::*;

#[derive(Entity, Debug)]
pub struct User {
    pub id: Uuid,
    #[column(max_len = 320, unique)]
    pub email: String,
    pub created_by: Option<Uuid>,
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

/// Written by the system only: the team's rule is waived, with a reason.
#[derive(Entity, Debug)]
#[entity(exempt(actor_columns = "settings are written by migrations, never by a person"))]
pub struct Setting {
    pub id: Uuid,
    #[column(max_len = 100, unique)]
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}
