//! Proving a deploy before it runs.
//!
//! Each release checks in a [`StatementCatalog`] beside its migrations
//! (`statements.catalog`, written by bless, kept honest by the migrations'
//! drift test): every statement its entities can send — fixed statements,
//! patches, upserts, batch inserts and `COPY` column lists, relation
//! loads — with the types it binds and reads, never a value. Statements
//! built at run time from a caller's filters are there by their fixed
//! parts (the `get` and load statements hold the same select lists).
//!
//! [`verify`] applies the pending migrations one at a time to a scratch
//! database and proves, after each, every statement of the release that
//! runs then: the previous release's through the expand phase, the new
//! release's from its end on. A renamed column, a narrowed or widened
//! type, a `NOT NULL` column an old insert leaves out: each is a
//! [`Failure`] naming the release, the entity and operation, the
//! migration and PostgreSQL's error — before the deploy, not during it.
//!
//! From the command line: `migrate verify --previous <catalog file or git
//! ref>`.

mod catalog;
mod collect;
#[cfg(feature = "tools")]
mod rehearse;
mod scratch;
mod verify;

pub use catalog::{Entry, StatementCatalog};
pub use collect::describe;
#[cfg(feature = "tools")]
pub use rehearse::{
    rehearse, rehearse_on, LockHeld, Rehearsal, RehearsalOptions, Rehearsed, Waits,
};
pub use verify::{verify, verify_on, Failure, Proof, Release};
