// A `tenant_reference` waiver belongs on a column that references something.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Office {
    pub id: Uuid,
    #[column(max_len = 80, exempt(tenant_reference = "why"))]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
