// Entities are structs.
use ordinance::prelude::*;

#[derive(Entity)]
pub enum Status {
    Draft,
    Published,
}

fn main() {}
