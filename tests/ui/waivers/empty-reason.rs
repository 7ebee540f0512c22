// A waiver needs a written reason.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Reading {
    pub id: Uuid,
    #[column(exempt(float = ""))]
    pub celsius: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
