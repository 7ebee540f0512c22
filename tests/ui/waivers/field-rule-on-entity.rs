// Field rules are waived on the field.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(exempt(float = "sensor data"))]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
