// Every missing required column is reported at once.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct User {
    pub email: String,
}

fn main() {}
