//! Batch inserts against a hand-written binary `COPY`, in one run, on the
//! same server.
//!
//! `cargo bench -p ordinance-examples --bench batches` prints medians and
//! ratios to the hand-written copy for 10,000 rows: `insert_many` (rows
//! returned), `insert_many_count` and `copy_in` into a plain table, and the
//! same into a tenant table (`#[entity(tenant)]`) as the application role,
//! in the tenant's transaction, where PostgreSQL refuses `COPY` and the
//! kit goes through a staging table — against `COPY` into that table as
//! its owner.
//!
//! `ORDINANCE_BENCH_ONLY=<variant> ORDINANCE_BENCH_CALLS=<n>` runs one
//! variant `n` times with no timing loop, for callgrind; the variants are
//! `copy-kit`, `copy-base`, `insert_many_count-kit`, `insert_many-kit`,
//! `tenant_count-kit`, `tenant_many-kit` and `tenant_copy-base`.

// One future runs at a time here, so a RefCell borrowed across an await
// cannot be borrowed twice.
#![allow(clippy::await_holding_refcell_ref)]

mod common;

use std::cell::RefCell;
use std::pin::pin;
use std::time::{Duration, Instant};

use common::accounts::{new_account, Account, NewAccount};
use common::median;

use ordinance::batch::{copy_in, insert_many, insert_many_count};
use ordinance::exec::{set_scope, transaction, Connection, Scope};
use ordinance::prelude::*;
use ordinance::testing::TestDatabase;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

/// An account (`common::accounts::Account`), kept per tenant under
/// row-level security.
#[derive(Entity, Debug, Clone)]
#[entity(tenant)]
pub struct Member {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 320)]
    pub email: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

const BATCH: usize = 10_000;
const RUNS: usize = 9;

fn new_member(i: usize) -> NewMember {
    NewMember {
        email: format!("member{i}@example.com"),
        display_name: Some(format!("Member {i}")),
        is_admin: i.is_multiple_of(10),
    }
}

/// A tokio-postgres client of its own, for the baseline.
async fn raw_client(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The hand-written binary COPY of `rows` into `table` (id, email,
/// display_name, is_admin), with the tenant column too when given.
async fn hand_copy(
    client: &Client,
    table: &str,
    tenant: Option<Uuid>,
    rows: &[(String, Option<String>, bool)],
) -> u64 {
    let (columns, types): (&str, &[Type]) = match tenant {
        Some(_) => (
            "id, tenant_id, email, display_name, is_admin",
            &[Type::UUID, Type::UUID, Type::TEXT, Type::TEXT, Type::BOOL],
        ),
        None => (
            "id, email, display_name, is_admin",
            &[Type::UUID, Type::TEXT, Type::TEXT, Type::BOOL],
        ),
    };
    let sink = client
        .copy_in(&format!(
            "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .expect("copy");
    let mut writer = pin!(BinaryCopyInWriter::new(sink, types));
    for (email, name, admin) in rows {
        let id = Uuid::now_v7();
        match &tenant {
            Some(t) => writer.as_mut().write(&[&id, t, email, name, admin]).await,
            None => writer.as_mut().write(&[&id, email, name, admin]).await,
        }
        .expect("row");
    }
    writer.finish().await.expect("finish")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA, Member::SCHEMA])?;
    let db = TestDatabase::with_schema(&ddl.up()).await?;
    // The application's role: no superuser, no BYPASSRLS, the kit's grants.
    let owner = db.connect().await?;
    let app = format!("{}_app", db.name());
    owner
        .batch_execute(&format!("CREATE ROLE \"{app}\" LOGIN NOBYPASSRLS"))
        .await?;
    let roles = ordinance::ddl::Roles {
        app: &app,
        read_only: None,
    };
    for grant in ordinance::ddl::grants(&[Account::SCHEMA, Member::SCHEMA], &roles) {
        owner.batch_execute(&grant).await?;
    }
    let mut app_config = db.config().clone();
    app_config.user(&app);

    let accounts: Vec<NewAccount> = (0..BATCH).map(new_account).collect();
    let members: Vec<NewMember> = (0..BATCH).map(new_member).collect();
    let account_values: Vec<(String, Option<String>, bool)> = accounts
        .iter()
        .map(|a| (a.email.clone(), a.display_name.clone(), a.is_admin))
        .collect();
    let member_values: Vec<(String, Option<String>, bool)> = members
        .iter()
        .map(|m| (m.email.clone(), m.display_name.clone(), m.is_admin))
        .collect();
    let tenant = Uuid::now_v7();
    let kit = RefCell::new(db.connect().await?);
    let as_app = RefCell::new(Connection::connect(&app_config).await?);
    let base = raw_client(db.config()).await?;

    // The tenant's transaction, as a service runs it.
    let tenant_many = async || {
        let mut conn = as_app.borrow_mut();
        transaction(&mut *conn, async |tx| {
            set_scope(&*tx, Scope::tenant(tenant)).await?;
            insert_many(tx, &members).await
        })
        .await
        .expect("tenant batch")
        .len() as u64
    };
    let tenant_count = async || {
        let mut conn = as_app.borrow_mut();
        transaction(&mut *conn, async |tx| {
            set_scope(&*tx, Scope::tenant(tenant)).await?;
            insert_many_count(tx, &members).await
        })
        .await
        .expect("tenant batch")
    };
    let variants: [(&str, &str); 7] = [
        ("insert_many-kit", "insert_many (rows returned)"),
        ("insert_many_count-kit", "insert_many_count"),
        ("copy-kit", "copy_in"),
        ("copy-base", "hand-written binary COPY"),
        ("tenant_many-kit", "tenant: insert_many, app role"),
        ("tenant_count-kit", "tenant: insert_many_count, app role"),
        ("tenant_copy-base", "tenant: binary COPY as the owner"),
    ];
    let run = async |which: usize| -> u64 {
        match which {
            0 => insert_many(&mut *kit.borrow_mut(), &accounts)
                .await
                .expect("many")
                .len() as u64,
            1 => insert_many_count(&mut *kit.borrow_mut(), &accounts)
                .await
                .expect("count"),
            2 => copy_in(&kit.borrow(), &accounts).await.expect("copy"),
            3 => hand_copy(&base, "accounts", None, &account_values).await,
            4 => tenant_many().await,
            5 => tenant_count().await,
            _ => hand_copy(&base, "members", Some(tenant), &member_values).await,
        }
    };

    if let Some((only, calls)) = common::only() {
        // Instruction counts: one variant, no timing.
        let Some(which) = variants.iter().position(|(name, _)| *name == only) else {
            eprintln!("no variant named {only}");
            return Ok(());
        };
        for _ in 0..calls {
            assert_eq!(run(which).await, BATCH as u64);
        }
        return Ok(());
    }

    let mut times: [Vec<Duration>; 7] = Default::default();
    for round in 0..RUNS {
        // Rotate the order so no variant always runs first.
        for k in 0..variants.len() {
            let which = (round + k) % variants.len();
            let t = Instant::now();
            assert_eq!(run(which).await, BATCH as u64);
            times[which].push(t.elapsed());
        }
    }
    let medians = times.map(median);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("insert {BATCH} rows (median of {RUNS})");
    for (i, (_, label)) in variants.iter().enumerate() {
        let baseline = if i < 4 { medians[3] } else { medians[6] };
        let against = if i < 4 { "COPY" } else { "owner COPY" };
        println!(
            "  {label:<38} {:>8.1} ms  {:>5.2}x {against}",
            ms(medians[i]),
            medians[i].as_secs_f64() / baseline.as_secs_f64()
        );
    }
    Ok(())
}
