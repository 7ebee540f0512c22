// Many-to-many loads go through a join entity: two foreign keys declared
// unique together. Without the unique pair, the same link could appear
// twice, and the load does not compile.
use ordinance::prelude::*;
use ordinance::repo::Repo;

#[derive(Entity, Clone)]
pub struct Post {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Clone)]
pub struct Tag {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct PostTag {
    pub id: Uuid,
    #[column(references = Post)]
    pub post_id: Uuid,
    #[column(references = Tag)]
    pub tag_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn tags(client: &ordinance::deps::tokio_postgres::Client, posts: Vec<Post>) {
    let repo = Repo::new(client);
    let _ = repo.with_related(posts, PostTag::POST, PostTag::TAG).await;
}

fn main() {}
