//! The repository against a hand-written tokio-postgres baseline, in one run,
//! on the same server.
//!
//! `cargo bench -p ordinance-examples --bench repo` prints medians and the
//! ratio kit / baseline for every documented path: single-row operations on
//! a pooled connection (get, insert, update, a one-column patch, soft
//! delete), on a plain `Connection`, inside a transaction, on a
//! bare `Client` and unnamed; reading 10,000 rows with `list` and `stream`.
//! Batches are the `batches` bench's, memory the `memory` bench's.
//!
//! `ORDINANCE_BENCH_ONLY=<name>-kit|<name>-base ORDINANCE_BENCH_CALLS=<n>`
//! runs one variant `n` times with no timing loop, for callgrind: the names
//! are printed in the first column.

// One future runs at a time here, so a RefCell borrowed across an await
// cannot be borrowed twice.
#![allow(clippy::await_holding_refcell_ref)]

mod common;

use std::cell::RefCell;

use common::accounts::{
    base_get, base_insert, base_list, base_patch, base_soft_delete, base_stream, base_update,
    decode, kit_get, kit_patch, kit_stream, kit_update, new_account, prepare, raw_client, Account,
    NewAccount, NewSample, Prepared, Sample, GET_SQL,
};
use common::pair;

use ordinance::batch::{insert_many, insert_many_count};
use ordinance::exec::Executor;
use ordinance::exec::{transaction, Unnamed};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

const SINGLE: (usize, usize) = (300, 3000);
const READ: usize = 10_000;

/// get, insert, update and soft delete through `repo` against the
/// baseline; `seeded` rows are read and updated, `doomed` soft-deleted (two
/// halves, one per side). Returns whether a fixed-call variant ran.
async fn single_row<X: Executor>(
    place: &str,
    repo: &Repo<'_, X>,
    base: &Client,
    p: &Prepared,
    seeded: &[Account],
    doomed: &[Account],
) -> bool {
    let ids: Vec<Uuid> = seeded.iter().map(|a| a.id).collect();
    if pair(
        &format!("get-{place}"),
        &format!("get-{place}"),
        "prepared SELECT",
        SINGLE,
        |i| kit_get(repo, ids[i % ids.len()]),
        |i| {
            let id = ids[(i + 500) % ids.len()];
            async move {
                std::hint::black_box(base_get(base, p, id).await);
            }
        },
    )
    .await
    {
        return true;
    }
    if pair(
        &format!("insert-{place}"),
        &format!("insert-{place}"),
        "prepared INSERT",
        SINGLE,
        |i| async move {
            let a = repo.insert(&new_account(10_000 + i)).await.expect("insert");
            std::hint::black_box(a);
        },
        |i| async move {
            std::hint::black_box(base_insert(base, p, &new_account(20_000 + i)).await);
        },
    )
    .await
    {
        return true;
    }
    let kit_row = RefCell::new(seeded[0].clone());
    let base_row = RefCell::new(seeded[1].clone());
    if pair(
        &format!("update-{place}"),
        &format!("update-{place}"),
        "prepared UPDATE",
        SINGLE,
        |i| {
            let kit_row = &kit_row;
            async move {
                let a = kit_row.borrow().clone();
                *kit_row.borrow_mut() = kit_update(repo, a, i.is_multiple_of(2)).await;
            }
        },
        |i| {
            let base_row = &base_row;
            async move {
                let a = base_row.borrow().clone();
                *base_row.borrow_mut() = base_update(base, p, &a, i.is_multiple_of(2)).await;
            }
        },
    )
    .await
    {
        return true;
    }
    // One column, with the version the caller holds.
    let kit_row = RefCell::new(seeded[2].clone());
    let base_row = RefCell::new(seeded[3].clone());
    if pair(
        &format!("patch-{place}"),
        &format!("patch-{place}"),
        "prepared UPDATE of one column",
        SINGLE,
        |i| {
            let kit_row = &kit_row;
            async move {
                let (id, version) = {
                    let a = kit_row.borrow();
                    (a.id, a.version)
                };
                *kit_row.borrow_mut() = kit_patch(repo, id, version, i.is_multiple_of(2)).await;
            }
        },
        |i| {
            let base_row = &base_row;
            async move {
                let (id, version) = {
                    let a = base_row.borrow();
                    (a.id, a.version)
                };
                *base_row.borrow_mut() =
                    base_patch(base, p, id, version, i.is_multiple_of(2)).await;
            }
        },
    )
    .await
    {
        return true;
    }
    let half = doomed.len() / 2;
    pair(
        &format!("soft_delete-{place}"),
        &format!("soft delete-{place}"),
        "prepared UPDATE",
        SINGLE,
        |i| {
            let a = &doomed[i % half];
            async move {
                let gone = repo.soft_delete(a).await;
                std::hint::black_box(gone.ok());
            }
        },
        |i| {
            let a = &doomed[half + i % half];
            async move {
                std::hint::black_box(base_soft_delete(base, p, a).await);
            }
        },
    )
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::instrument();
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA, Sample::SCHEMA])?;
    let db = TestDatabase::with_schema(&ddl.up()).await?;
    let pool = Pool::connect(
        db.config().clone(),
        PoolOptions {
            min_size: 1,
            ..PoolOptions::default()
        },
    )
    .await?;
    let pooled = pool.get().await?;
    let plain = db.connect().await?;
    let bare = raw_client(&db).await?;
    let base = raw_client(&db).await?;
    let p = prepare(&base).await?;
    let mut setup = db.connect().await?;

    let seeded = insert_many(&mut setup, &(0..1000).map(new_account).collect::<Vec<_>>()).await?;
    let doomed_rows = 2 * (SINGLE.0 + SINGLE.1);
    let samples: Vec<NewSample> = (0..READ)
        .map(|i| NewSample {
            email: format!("sample{i}@example.com"),
            display_name: (i % 3 != 0).then(|| format!("Sample {i}")),
            is_admin: i.is_multiple_of(7),
        })
        .collect();
    insert_many_count(&mut setup, &samples).await?;
    setup.batch_execute("ANALYZE").await?;

    let fixed = common::only().is_some();
    if !fixed {
        println!(
            "{:<34} {:>13} {:>13}  {:>7}",
            "operation (median)", "ordinance", "baseline", "ratio"
        );
    }

    // Each place reads and updates rows of its own, and soft-deletes its own.
    let doomed = async |setup: &mut ordinance::exec::Connection| {
        let rows: Vec<NewAccount> = (0..doomed_rows).map(|i| new_account(900_000 + i)).collect();
        insert_many(setup, &rows).await.expect("doomed rows")
    };
    let d = doomed(&mut setup).await;
    if single_row("pooled", &Repo::new(&*pooled), &base, &p, &seeded, &d).await {
        return Ok(());
    }
    let d = doomed(&mut setup).await;
    if single_row(
        "connection",
        &Repo::new(&plain),
        &base,
        &p,
        &seeded[2..],
        &d,
    )
    .await
    {
        return Ok(());
    }
    let d = doomed(&mut setup).await;
    if single_row("bare", &Repo::new(&bare), &base, &p, &seeded[4..], &d).await {
        return Ok(());
    }

    // Inside a transaction: the kit's Transaction shares its connection's
    // statements; the baseline's transaction uses its prepared statement.
    let ids: Vec<Uuid> = seeded.iter().map(|a| a.id).collect();
    let tx_conn = RefCell::new(db.connect().await?);
    let base_tx = RefCell::new(raw_client(&db).await?);
    let base_get = base_tx.borrow().prepare(GET_SQL).await?;
    if pair(
        "get-transaction",
        "get in a transaction",
        "BEGIN; prepared SELECT; COMMIT",
        SINGLE,
        |i| {
            let id = ids[i % ids.len()];
            let tx_conn = &tx_conn;
            async move {
                let mut conn = tx_conn.borrow_mut();
                let a: Account = transaction(&mut *conn, async |tx| Repo::new(&*tx).get(id).await)
                    .await
                    .expect("get");
                std::hint::black_box(a);
            }
        },
        |i| {
            let id = ids[(i + 500) % ids.len()];
            let (base_tx, base_get) = (&base_tx, &base_get);
            async move {
                let mut client = base_tx.borrow_mut();
                let tx = client.transaction().await.expect("begin");
                let a = decode(&tx.query_one(base_get, &[&id]).await.expect("get"));
                tx.commit().await.expect("commit");
                std::hint::black_box(a);
            }
        },
    )
    .await
    {
        return Ok(());
    }

    let unnamed = Unnamed(&plain);
    let unnamed_repo = Repo::new(&unnamed);
    if pair(
        "get-unnamed",
        "get, Unnamed",
        "query_typed",
        SINGLE,
        |i| {
            let id = ids[i % ids.len()];
            let unnamed_repo = &unnamed_repo;
            async move {
                let a: Account = unnamed_repo.get(id).await.expect("get");
                std::hint::black_box(a);
            }
        },
        |i| {
            let id = ids[(i + 500) % ids.len()];
            let base = &base;
            async move {
                let row = base
                    .query_typed(GET_SQL, &[(&id, Type::UUID)])
                    .await
                    .expect("get")
                    .pop()
                    .expect("a row");
                std::hint::black_box(decode(&row));
            }
        },
    )
    .await
    {
        return Ok(());
    }

    // Large reads: 10,000 rows.
    let repo = Repo::new(&*pooled);
    let all = ordinance::query::live::<Sample>();
    let reads = (5, 100);
    if pair(
        "list",
        "list 10,000 rows",
        "prepared SELECT, decoded",
        reads,
        |_| {
            let (repo, all) = (&repo, &all);
            async move {
                let rows: Vec<Sample> = repo.list(all).await.expect("list");
                assert_eq!(rows.len(), READ);
                std::hint::black_box(rows);
            }
        },
        |_| {
            let (base, p) = (&base, &p);
            async move {
                let rows = base_list(base, p).await;
                assert_eq!(rows.len(), READ);
                std::hint::black_box(rows);
            }
        },
    )
    .await
    {
        return Ok(());
    }
    if pair(
        "stream",
        "stream 10,000 rows",
        "query_raw, decoded as read",
        reads,
        |_| {
            let (repo, all) = (&repo, &all);
            async move {
                assert_eq!(kit_stream(repo, all).await, READ);
            }
        },
        |_| {
            let (base, p) = (&base, &p);
            async move {
                assert_eq!(base_stream(base, p).await, READ);
            }
        },
    )
    .await
    {
        return Ok(());
    }

    Ok(())
}
