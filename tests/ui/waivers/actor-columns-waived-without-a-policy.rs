// `actor_columns` waives the actor columns a team's policy requires; with
// no such policy (the default) there is nothing to waive.
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(exempt(actor_columns = "written by the system"))]
pub struct Setting {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
