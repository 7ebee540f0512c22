//! The repository against a hand-written tokio-postgres baseline, in one run,
//! on connections from the same pool and server.
//!
//! `cargo bench -p ordinance-examples --bench repo` prints medians and the
//! ratio kit / baseline for: get by id, insert one, update with version check,
//! and 10,000-row batches (batch insert vs binary COPY vs one insert per row).

mod common;

use std::time::{Duration, Instant};

use common::{median, report};

use ordinance::batch::{copy_in, insert_many, insert_many_count};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tokio_postgres::{Client, Row};

/// A typical table: seven columns of mixed types.
#[derive(Entity, Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    #[column(max_len = 320)]
    pub email: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const COLUMNS: &str =
    "id, email, display_name, is_admin, created_at, updated_at, deleted_at, version";
const SINGLE_OPS: usize = 3000;
const WARMUP: usize = 300;
const BATCH: usize = 10_000;
const BATCH_RUNS: usize = 7;

/// The hand-written decoding a careful baseline does.
fn decode(row: &Row) -> Account {
    Account {
        id: row.get(0),
        email: row.get(1),
        display_name: row.get(2),
        is_admin: row.get(3),
        created_at: row.get(4),
        updated_at: row.get(5),
        deleted_at: row.get(6),
        version: row.get(7),
    }
}

fn new_account(i: usize) -> NewAccount {
    NewAccount {
        email: format!("user{i}@example.com"),
        display_name: Some(format!("User {i}")),
        is_admin: i.is_multiple_of(10),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA])?;
    let db = TestDatabase::with_schema(&ddl.up()).await?;
    let pool = Pool::connect(
        db.config().clone(),
        PoolOptions {
            min_size: 2,
            ..PoolOptions::default()
        },
    )
    .await?;
    let kit_conn = pool.get().await?;
    let base_conn = pool.get().await?;
    let repo = Repo::new(&*kit_conn);
    let base: &Client = &base_conn;

    let seeded = insert_many(
        &mut db.connect().await?,
        &(0..1000).map(new_account).collect::<Vec<_>>(),
    )
    .await?;
    let ids: Vec<Uuid> = seeded.iter().map(|a| a.id).collect();

    println!(
        "{:<28} {:>13} {:>13}  {:>7}",
        "operation (median)", "ordinance", "baseline", "ratio"
    );

    let get = base
        .prepare(&format!(
            "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND deleted_at IS NULL"
        ))
        .await?;
    let (k, b) = common::alternate(
        WARMUP,
        SINGLE_OPS,
        |i| {
            let repo = &repo;
            let id = ids[i % ids.len()];
            async move {
                let a: Account = repo.get(id).await.expect("get");
                std::hint::black_box(a);
            }
        },
        |i| {
            let get = &get;
            let id = ids[(i + 500) % ids.len()];
            async move {
                let a = decode(&base.query_one(get, &[&id]).await.expect("get"));
                std::hint::black_box(a);
            }
        },
    )
    .await;
    report("get by id", k, b, "prepared SELECT");

    let insert = base
        .prepare(&format!(
            "INSERT INTO accounts (id, email, display_name, is_admin) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
        ))
        .await?;
    let (k, b) = common::alternate(
        WARMUP,
        SINGLE_OPS,
        |i| {
            let repo = &repo;
            async move {
                let a = repo.insert(&new_account(10_000 + i)).await.expect("insert");
                std::hint::black_box(a);
            }
        },
        |i| {
            let insert = &insert;
            async move {
                let n = new_account(20_000 + i);
                let id = Uuid::now_v7();
                let row = base
                    .query_one(insert, &[&id, &n.email, &n.display_name, &n.is_admin])
                    .await
                    .expect("insert");
                std::hint::black_box(decode(&row));
            }
        },
    )
    .await;
    report("insert one", k, b, "prepared INSERT");

    let update = base
        .prepare(&format!(
            "UPDATE accounts SET email = $3, display_name = $4, is_admin = $5, updated_at = now(), \
             version = version + 1 WHERE id = $1 AND version = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .await?;
    let kit_row = std::cell::RefCell::new(seeded[0].clone());
    let base_row = std::cell::RefCell::new(seeded[1].clone());
    let (k, b) = common::alternate(
        WARMUP,
        SINGLE_OPS,
        |i| {
            let repo = &repo;
            let kit_row = &kit_row;
            async move {
                let mut a = kit_row.borrow().clone();
                a.is_admin = i.is_multiple_of(2);
                *kit_row.borrow_mut() = repo.update(&a).await.expect("update");
            }
        },
        |i| {
            let update = &update;
            let base_row = &base_row;
            async move {
                let a = base_row.borrow().clone();
                let admin = i.is_multiple_of(2);
                let row = base
                    .query_opt(
                        update,
                        &[&a.id, &a.version, &a.email, &a.display_name, &admin],
                    )
                    .await
                    .expect("update")
                    .expect("not stale");
                *base_row.borrow_mut() = decode(&row);
            }
        },
    )
    .await;
    report("update, version-checked", k, b, "prepared UPDATE");

    // Batches of 10,000 rows, each variant on its own fresh connection.
    let mut client = db.connect().await?;
    let mut batch_kit = Vec::new();
    let mut batch_count = Vec::new();
    let mut batch_unnest = Vec::new();
    let mut batch_copy = Vec::new();
    let mut batch_single = Vec::new();
    for run in 0..BATCH_RUNS {
        let rows: Vec<NewAccount> = (0..BATCH)
            .map(|i| new_account(100_000 * (run + 1) + i))
            .collect();
        let t = Instant::now();
        let stored = insert_many(&mut client, &rows).await?;
        batch_kit.push(t.elapsed());
        assert_eq!(stored.len(), BATCH);

        let t = Instant::now();
        let written = insert_many_count(&mut client, &rows).await?;
        batch_count.push(t.elapsed());
        assert_eq!(written, BATCH as u64);

        // Hand-written: typed arrays built by the caller, one UNNEST statement.
        let t = Instant::now();
        let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
        let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
        let names: Vec<Option<&str>> = rows.iter().map(|r| r.display_name.as_deref()).collect();
        let admins: Vec<bool> = rows.iter().map(|r| r.is_admin).collect();
        let tx = client.transaction().await?;
        let written = tx
            .execute(
                "INSERT INTO accounts (id, email, display_name, is_admin) \
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bool[])",
                &[&ids, &emails, &names, &admins],
            )
            .await?;
        tx.commit().await?;
        batch_unnest.push(t.elapsed());
        assert_eq!(written, BATCH as u64);

        let t = Instant::now();
        copy_in(&client, &rows).await?;
        batch_copy.push(t.elapsed());

        let tx = client.transaction().await?;
        let single = tx
            .prepare(
                "INSERT INTO accounts (id, email, display_name, is_admin) VALUES ($1, $2, $3, $4)",
            )
            .await?;
        let t = Instant::now();
        for n in &rows {
            tx.execute(
                &single,
                &[&Uuid::now_v7(), &n.email, &n.display_name, &n.is_admin],
            )
            .await?;
        }
        tx.commit().await?;
        batch_single.push(t.elapsed());
    }
    let (kit, count, unnest, copy, single) = (
        median(batch_kit),
        median(batch_count),
        median(batch_unnest),
        median(batch_copy),
        median(batch_single),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    println!("insert {BATCH} rows (median of {BATCH_RUNS})");
    println!(
        "  insert_many (rows returned)   {:>8.1} ms  {:>5.2}x COPY",
        ms(kit),
        ratio(kit, copy)
    );
    println!(
        "  insert_many_count             {:>8.1} ms  {:>5.2}x COPY",
        ms(count),
        ratio(count, copy)
    );
    println!(
        "  hand-written UNNEST           {:>8.1} ms  {:>5.2}x COPY (insert_many_count / this = {:.2}x)",
        ms(unnest),
        ratio(unnest, copy),
        ratio(count, unnest)
    );
    println!("  binary COPY (copy_in)         {:>8.1} ms", ms(copy));
    println!(
        "  one INSERT per row            {:>8.1} ms  {:>5.1}x insert_many, {:.1}x insert_many_count",
        ms(single),
        ratio(single, kit),
        ratio(single, count)
    );
    Ok(())
}
