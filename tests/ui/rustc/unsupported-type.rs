// A type the kit cannot store is named by the ColumnType trait.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    pub scores: std::collections::HashSet<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
