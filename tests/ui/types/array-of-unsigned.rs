// An array of unsigned integers names the signed type to use.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Reading {
    pub id: Uuid,
    pub counts: Vec<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
