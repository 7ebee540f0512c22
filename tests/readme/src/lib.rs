//! The README's Rust examples, checked by the compiler.
//!
//! `build.rs` turns each Rust block of the workspace's `README.md` into a
//! doctest of this crate (blocks of statements: compiled, not run) or a
//! module of `tests/readme.rs` (blocks of items, such as tests: compiled
//! and run). What the blocks assume comes from here: the blog's entities
//! (the README's `User`, `Post`, `Comment`, `Tag`, `PostTag`), the few
//! others the README mentions, and [`any`] for the values a block takes as
//! given.

pub use ordinance_examples::blog_entities::*;

use ordinance::prelude::*;

/// A value of any type, for the variables a README block takes as given
/// (a connection, an id): the doctests are compiled, never run.
pub fn any<T>() -> T {
    unimplemented!("README blocks are compiled, not run")
}

/// A user's profile: at most one per user (a has-one relation).
#[derive(Entity, Debug, Clone)]
pub struct Profile {
    pub id: Uuid,
    #[column(references = User, on_delete = "cascade", unique)]
    pub user_id: Uuid,
    #[column(max_len = 2000)]
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A seat that one booking takes.
#[derive(Entity, Debug, Clone)]
pub struct Seat {
    pub id: Uuid,
    #[column(max_len = 10)]
    pub label: String,
    pub is_taken: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A job of a work queue.
#[derive(Entity, Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    #[column(max_len = 20)]
    pub state: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A doctor on call for a shift.
#[derive(Entity, Debug, Clone)]
pub struct Doctor {
    pub id: Uuid,
    pub shift: i32,
    pub is_on_call: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A tenant's note.
#[derive(Entity, Debug, Clone)]
#[entity(tenant, keyset(created_at desc))]
pub struct Note {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[cfg(doctest)]
#[doc = include_str!(concat!(env!("OUT_DIR"), "/readme_doctests.md"))]
pub struct ReadmeStatements;
