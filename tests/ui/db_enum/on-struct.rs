// DbEnum is for enums.
use ordinance::prelude::*;

#[derive(DbEnum, Clone, Copy)]
pub struct Status {
    pub value: i32,
}

fn main() {}
