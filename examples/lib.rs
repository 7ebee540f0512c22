//! Runnable examples of the ordinance toolkit; see `blog.rs`
//! (`cargo run --example blog`).

pub mod blog_entities;
