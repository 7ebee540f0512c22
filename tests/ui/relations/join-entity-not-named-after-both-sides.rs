// A join entity is named after both sides, plural last: PostTag -> post_tags.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct Tag {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
#[entity(unique(post_id, tag_id))]
pub struct Tagging {
    pub id: Uuid,
    #[column(references = Post)]
    pub post_id: Uuid,
    #[column(references = Tag)]
    pub tag_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
