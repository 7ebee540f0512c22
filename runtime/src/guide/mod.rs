//! The guide, one chapter a topic. Every example is compiled as a
//! doctest; they assume one shared fixture — the blog's entities (`User`,
//! `Post`, `Comment`, `Tag`, `PostTag`) and a few more, from the
//! workspace's `ordinance-readme` crate — instead of declaring their own.
//! The examples that are tests (`#[tokio::test]`, `#[ordinance::test]`)
//! also run, in that crate, against a real PostgreSQL.
//!
//! | chapter | what it covers |
//! |---|---|
//! | [`repository`] | connections and executors, large reads, batches, keyset pages, spans, pools, transactions, PgBouncer, builders, relations |
//! | [`values`] | enums, JSONB, arrays and money |
//! | [`lifecycle`] | upserts, row locks and claims, retries, bulk changes, retention |
//! | [`production`] | one `Cluster` for primary and replicas, roles and grants, tenants, PgBouncer |
//! | [`errors`] | what went wrong, as typed errors that say what PostgreSQL said |
//! | [`conventions`] | the rule book the derive enforces, and the types |
//! | [`migrations`] | generated, drift-checked migrations and rolling deploys |
//! | [`performance`] | the benchmarks against hand-written tokio-postgres |
//! | [`tools`] | a database per test, diagrams, documents, query plans, statement statistics, audit, adopt |

// The chapters' tests run in the `ordinance-readme` crate; here they are
// compiled only.
#![allow(clippy::test_attr_in_doctest)]

#[doc = include_str!("repository.md")]
pub mod repository {}
#[doc = include_str!("values.md")]
pub mod values {}
#[doc = include_str!("lifecycle.md")]
pub mod lifecycle {}
#[doc = include_str!("production.md")]
pub mod production {}
#[doc = include_str!("errors.md")]
pub mod errors {}
#[doc = include_str!("conventions.md")]
pub mod conventions {}
#[doc = include_str!("migrations.md")]
pub mod migrations {}
#[doc = include_str!("performance.md")]
pub mod performance {}
#[doc = include_str!("tools.md")]
pub mod tools {}
