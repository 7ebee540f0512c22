// Entities have named fields.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User(Uuid, DateTime<Utc>);

fn main() {}
