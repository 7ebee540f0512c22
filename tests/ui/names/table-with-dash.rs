// Table names use underscores, not dashes.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "workflow-steps")]
pub struct WorkflowStep {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
