//! A library catalogue written under the `prefixed` naming policy (see
//! this crate's `Cargo.toml`): primary keys `pk_{table}`, indexes
//! `ix_{table}_{columns}`, unique indexes `uq_{table}_{columns}`, checks
//! `ck_{table}_{column}_{rule}`, foreign keys `fk_{table}_{column}`;
//! every entity records who created and last changed it; and enums are
//! native PostgreSQL enum types (`book_format`, `shelf_kind`).

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

/// How a book is bound: the native enum type `book_format`, its values
/// in this order (the type sorts by it).
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookFormat {
    Hardcover,
    Paperback,
    Ebook,
}

/// What a shelf holds: the native enum type `shelf_kind`.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShelfKind {
    Reading,
    Wishlist,
    Finished,
}

/// A book by one author.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(format, id))]
pub struct Book {
    pub id: Uuid,
    #[column(references = Author, on_delete = "cascade")]
    pub author_id: Uuid,
    #[column(min_len = 1, max_len = 300)]
    pub title: String,
    #[column(min = 1)]
    pub pages: i32,
    #[column(default = "paperback")]
    pub format: BookFormat,
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
    pub kind: ShelfKind,
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
