// Table names are snake_case.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(table = "WorkflowSteps")]
pub struct WorkflowStep {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
