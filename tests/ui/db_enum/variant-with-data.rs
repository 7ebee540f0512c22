// A DbEnum is stored as one text value.
use ordinance::prelude::*;

#[derive(DbEnum, Clone, Copy)]
pub enum Status {
    Draft,
    Scheduled(u32),
}

fn main() {}
