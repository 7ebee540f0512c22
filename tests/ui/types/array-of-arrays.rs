// Arrays of arrays are refused: PostgreSQL's arrays are rectangular.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Reading {
    pub id: Uuid,
    pub grid: Vec<Vec<i32>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
