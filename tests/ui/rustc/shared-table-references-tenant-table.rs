// A table that is not a tenant table may not reference a tenant table:
// its rows are shared, and would point into one tenant's rows. Waivable
// with a reason.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(tenant)]
pub struct Project {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
pub struct Announcement {
    pub id: Uuid,
    #[column(references = Project)]
    pub project_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

// With a reason, it compiles.
#[derive(Entity)]
pub struct Bookmark {
    pub id: Uuid,
    #[column(references = Project, exempt(tenant_reference = "operators' bookmarks across tenants"))]
    pub project_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
