//! A library catalogue written under the `prefixed` naming policy (see
//! this crate's `Cargo.toml`): primary keys `pk_{table}`, indexes
//! `ix_{table}_{columns}`, unique indexes `uq_{table}_{columns}`, checks
//! `ck_{table}_{column}_{rule}`, foreign keys `fk_{table}_{column}`; and
//! every entity records who created and last changed it.

use ordinance::prelude::*;
use ordinance::TableSchema;

/// Someone who writes books.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc))]
pub struct Author {
    pub id: Uuid,
    /// Unique among live authors.
    #[column(max_len = 320, unique)]
    pub email: String,
    #[column(min_len = 1, max_len = 200)]
    pub name: String,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A book by one author.
#[derive(Entity, Debug, Clone)]
pub struct Book {
    pub id: Uuid,
    #[column(references = Author, on_delete = "cascade")]
    pub author_id: Uuid,
    #[column(min_len = 1, max_len = 300)]
    pub title: String,
    #[column(min = 1)]
    pub pages: i32,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A reader's shelf, kept per library (tenant): its books are the
/// library's own.
#[derive(Entity, Debug, Clone)]
#[entity(tenant, keyset(created_at desc, id desc))]
pub struct Shelf {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique within a library.
    #[column(min_len = 1, max_len = 100, unique)]
    pub label: String,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub deleted_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Every entity of the catalogue.
pub fn schemas() -> Vec<&'static TableSchema> {
    vec![Author::SCHEMA, Book::SCHEMA, Shelf::SCHEMA]
}
