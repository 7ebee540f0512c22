// A reason of only spaces is no reason.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(exempt(version = "   "))]
pub struct Event {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

fn main() {}
