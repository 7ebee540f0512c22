//! The repository and everything that runs statements — batches, pages,
//! relations, locks, transactions, tenants, pools, TLS, PgBouncer, spans —
//! against real PostgreSQL servers, as one test binary.

pub mod aggregates;
pub mod batch;
pub mod builders;
pub mod bulk;
pub mod counting;
pub mod errors;
pub mod history;
pub mod json;
pub mod locks;
pub mod outbox;
pub mod paging;
pub mod partitions;
pub mod patch;
pub mod pgbouncer;
pub mod plans;
pub mod pool;
pub mod relations;
pub mod repo;
pub mod send;
pub mod serialization;
pub mod statements;
pub mod stats;
pub mod stream;
pub mod telemetry;
pub mod tenants;
pub mod tls;
pub mod tracing;
pub mod transactions;
pub mod unnamed;
pub mod updated_at;
pub mod upsert;
pub mod values;
