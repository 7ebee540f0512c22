// Two variants cannot share a stored value.
use ordinance::prelude::*;

#[derive(DbEnum, Clone, Copy)]
pub enum Status {
    InReview,
    INReview,
}

fn main() {}
