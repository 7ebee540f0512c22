// Every attribute error is reported in one compile.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: Uuid,
    #[column(maxlen = 10)]
    pub name: String,
    #[column(min = 1)]
    pub email: String,
    #[column(unique = true)]
    pub handle: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
