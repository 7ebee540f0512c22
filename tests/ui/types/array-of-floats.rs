// An array of a refused element type is refused for the element's reason.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Reading {
    pub id: Uuid,
    pub samples: Vec<Option<f64>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
