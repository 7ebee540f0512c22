// A partial index's value is checked against the enum's stored values, and
// GIN against the column's type, at compile time (only the types know).
use ordinance::prelude::*;

#[derive(DbEnum, Debug, Clone, Copy)]
pub enum State {
    Open,
    Closed,
}

#[derive(Entity)]
#[entity(index(created_at, where(state = "opened")), index(due_on, using = "gin"))]
pub struct Ticket {
    pub id: Uuid,
    pub state: State,
    pub due_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
