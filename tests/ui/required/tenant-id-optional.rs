// Every row of a tenant table belongs to exactly one tenant.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(tenant)]
pub struct Note {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    #[column(max_len = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
