// A DbEnum has at least one value.
use ordinance::prelude::*;

#[derive(DbEnum, Clone, Copy)]
pub enum Status {}

fn main() {}
