// An upsert's conflict target must be a declared unique index: `name` is
// indexed, but not unique, so `TagKey` has no `Name` variant.
use ordinance::prelude::*;
use ordinance::repo::Repo;

#[derive(Entity)]
pub struct Tag {
    pub id: Uuid,
    #[column(max_len = 40, index)]
    pub name: String,
    #[column(max_len = 40, unique)]
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn save(conn: &ordinance::exec::Connection) -> ordinance::Result<Tag> {
    let new = NewTag { name: "Rust".into(), slug: "rust".into() };
    Repo::new(conn).upsert(&new, TagKey::Name).await
}

fn main() {
    let _ = save;
}
