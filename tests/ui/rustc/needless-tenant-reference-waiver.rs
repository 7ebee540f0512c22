// `tenant_reference` waives a reference into a tenant table; one into a
// shared table has nothing to waive.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Country {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct Office {
    pub id: Uuid,
    #[column(references = Country, exempt(tenant_reference = "not needed"))]
    pub country_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
