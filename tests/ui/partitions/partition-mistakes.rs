use ordinance::prelude::*;

/// A unique key without the partition key.
#[derive(Entity)]
#[entity(partitioned(interval = "1 month", keep = "13 months"))]
pub struct Visit {
    pub id: Uuid,
    #[column(max_len = 320, unique)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A span that is not one.
#[derive(Entity)]
#[entity(partitioned(interval = "1 fortnight"))]
pub struct Ping {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// No span at all.
#[derive(Entity)]
#[entity(partitioned(keep = "1 year"))]
pub struct Beat {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
