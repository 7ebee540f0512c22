// An enum column's default names one of its stored values; only the enum
// knows them, so the check runs at compile time and points at the value.
use ordinance::prelude::*;

#[derive(DbEnum, Debug, Clone, Copy)]
pub enum State {
    Draft,
    Published,
}

#[derive(Entity)]
pub struct Article {
    pub id: Uuid,
    #[column(default = "Published")]
    pub state: State,
    #[column(default = {})]
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
