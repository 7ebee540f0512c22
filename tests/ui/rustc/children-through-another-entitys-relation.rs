// Comment::POST loads the comments of posts; asked for the comments of
// users, it does not compile, and the message says which relation to use.
use ordinance::prelude::*;
use ordinance::repo::Repo;

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
    #[column(references = User)]
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct Comment {
    pub id: Uuid,
    #[column(references = Post)]
    pub post_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn comments_of_users(client: &ordinance::deps::tokio_postgres::Client, users: Vec<User>) {
    let repo = Repo::new(client);
    let _ = repo.with_children(users, Comment::POST).await;
}

fn main() {}
