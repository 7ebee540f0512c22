use ordinance::prelude::*;

/// An outbox missing the columns its relay uses.
#[derive(Entity)]
#[entity(outbox)]
pub struct Events {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub topic: String,
    pub key: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An outbox with soft delete and a version, shared by tenants.
#[derive(Entity)]
#[entity(outbox, tenant)]
pub struct Messages {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub topic: String,
    pub key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub available_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A payload that is not JSON.
#[derive(Entity)]
#[entity(outbox)]
pub struct Notices {
    pub id: Uuid,
    pub topic: String,
    pub key: String,
    pub payload: String,
    pub attempts: i32,
    pub available_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
