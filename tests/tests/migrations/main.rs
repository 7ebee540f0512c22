//! Schemas and their evolution — DDL, migrations generated, applied,
//! rolled out and drift-checked, the throwaway server itself — against
//! real PostgreSQL servers, as one test binary.

pub mod concurrency;
pub mod ddl;
pub mod ddl_order;
pub mod defaults;
pub mod document;
pub mod harness;
pub mod history_migrations;
pub mod indexes;
pub mod lock_waits;
pub mod migrate;
pub mod outbox_migrations;
pub mod partition_migrations;
pub mod proof;
pub mod rehearsal;
pub mod rolling;
pub mod schemas;
pub mod tenant_migrations;
