// Each index shape applies to some columns only: `lower` to text, GIN to
// JSONB and arrays (unordered, never unique, nothing included), a partial
// condition to an enum or text value or a boolean; a keyset order is plain
// columns.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(
    index(lower(rank)),
    index(code, using = "gin"),
    unique(tags, using = "gin"),
    index(labels desc, using = "gin"),
    index(notes, using = "gin", include(code)),
    index(title, include(title)),
    index(code, where(rank = 3)),
    index(code, where(is_open = "yes")),
    index(code, where(title)),
    index(summary, using = "hash"),
    keyset(lower(code))
)]
pub struct Item {
    pub id: Uuid,
    #[column(max_len = 20)]
    pub code: String,
    pub title: String,
    pub summary: String,
    pub rank: i32,
    pub is_open: bool,
    pub tags: Vec<String>,
    pub labels: Vec<String>,
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
