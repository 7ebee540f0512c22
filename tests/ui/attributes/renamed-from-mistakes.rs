// `renamed_from` tells the migration generator a column's previous name.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Post {
    pub id: Uuid,
    #[column(max_len = 200, renamed_from = "title")]
    pub title: String,
    #[column(renamed_from = "title")]
    pub body: String,
    #[column(renamed_from = "PublishedOn")]
    pub published_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
