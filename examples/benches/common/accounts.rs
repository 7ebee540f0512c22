//! The repository benchmarks' tables, and the hand-written
//! tokio-postgres baseline's statements and decoding for them.

use std::pin::pin;

use ordinance::deps::futures_util::TryStreamExt as _;
use ordinance::deps::sea_query::SelectStatement;
use ordinance::exec::Executor;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tokio_postgres::{Client, NoTls, Row};

/// A typical table: eight columns of mixed types, four written by inserts.
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

/// The table large reads and pages come from: exactly the rows seeded.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc))]
pub struct Sample {
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

pub const COLUMNS: &str =
    "id, email, display_name, is_admin, created_at, updated_at, deleted_at, version";

/// The hand-written decoding a careful baseline does.
pub fn decode(row: &Row) -> Account {
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

pub fn decode_sample(row: &Row) -> Sample {
    let a = decode(row);
    Sample {
        id: a.id,
        email: a.email,
        display_name: a.display_name,
        is_admin: a.is_admin,
        created_at: a.created_at,
        updated_at: a.updated_at,
        deleted_at: a.deleted_at,
        version: a.version,
    }
}

pub fn new_account(i: usize) -> NewAccount {
    NewAccount {
        email: format!("user{i}@example.com"),
        display_name: Some(format!("User {i}")),
        is_admin: i.is_multiple_of(10),
    }
}

/// A tokio-postgres client of its own, for the baseline.
pub async fn raw_client(db: &TestDatabase) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = db.config().connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The baseline's prepared statements.
pub struct Prepared {
    pub get: tokio_postgres::Statement,
    pub insert: tokio_postgres::Statement,
    pub update: tokio_postgres::Statement,
    pub patch: tokio_postgres::Statement,
    pub soft_delete: tokio_postgres::Statement,
    pub list: tokio_postgres::Statement,
}

pub const GET_SQL: &str =
    "SELECT id, email, display_name, is_admin, created_at, updated_at, deleted_at, version \
     FROM accounts WHERE id = $1 AND deleted_at IS NULL";

pub async fn prepare(base: &Client) -> Result<Prepared, tokio_postgres::Error> {
    Ok(Prepared {
        get: base.prepare(GET_SQL).await?,
        insert: base
            .prepare(&format!(
                "INSERT INTO accounts (id, email, display_name, is_admin) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            ))
            .await?,
        update: base
            .prepare(&format!(
                "UPDATE accounts SET email = $3, display_name = $4, is_admin = $5, updated_at = now(), \
                 version = version + 1 WHERE id = $1 AND version = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .await?,
        patch: base
            .prepare(&format!(
                "UPDATE accounts SET is_admin = $3, version = version + 1, updated_at = now() \
                 WHERE id = $1 AND version = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .await?,
        soft_delete: base
            .prepare(&format!(
                "UPDATE accounts SET deleted_at = now(), updated_at = now(), version = version + 1 \
                 WHERE id = $1 AND version = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .await?,
        list: base
            .prepare(&format!(
                "SELECT {COLUMNS} FROM samples WHERE deleted_at IS NULL"
            ))
            .await?,
    })
}

// The baseline's operations, as the benchmarks time and count them: each
// one prepared statement and the rows decoded by index.

/// A get by id.
pub async fn base_get(base: &Client, p: &Prepared, id: Uuid) -> Account {
    decode(&base.query_one(&p.get, &[&id]).await.expect("get"))
}

/// An insert of `n` with a fresh UUIDv7, the row returned.
pub async fn base_insert(base: &Client, p: &Prepared, n: &NewAccount) -> Account {
    let id = Uuid::now_v7();
    let row = base
        .query_one(&p.insert, &[&id, &n.email, &n.display_name, &n.is_admin])
        .await
        .expect("insert");
    decode(&row)
}

/// A version-checked update of every written column of `a`, `is_admin`
/// set to `admin`.
pub async fn base_update(base: &Client, p: &Prepared, a: &Account, admin: bool) -> Account {
    let row = base
        .query_opt(
            &p.update,
            &[&a.id, &a.version, &a.email, &a.display_name, &admin],
        )
        .await
        .expect("update")
        .expect("not stale");
    decode(&row)
}

/// A version-checked update of `is_admin` alone.
pub async fn base_patch(
    base: &Client,
    p: &Prepared,
    id: Uuid,
    version: i32,
    admin: bool,
) -> Account {
    let row = base
        .query_opt(&p.patch, &[&id, &version, &admin])
        .await
        .expect("patch")
        .expect("not stale");
    decode(&row)
}

/// A version-checked soft delete; `None` when `a` was gone already.
pub async fn base_soft_delete(base: &Client, p: &Prepared, a: &Account) -> Option<Account> {
    base.query_opt(&p.soft_delete, &[&a.id, &a.version])
        .await
        .expect("soft delete")
        .map(|r| decode(&r))
}

/// Every live sample, read whole.
pub async fn base_list(base: &Client, p: &Prepared) -> Vec<Sample> {
    base.query(&p.list, &[])
        .await
        .expect("list")
        .iter()
        .map(decode_sample)
        .collect()
}

/// Every live sample, streamed and decoded as read; how many.
pub async fn base_stream(base: &Client, p: &Prepared) -> usize {
    let mut rows = pin!(base
        .query_raw(&p.list, std::iter::empty::<i32>())
        .await
        .expect("stream"));
    let mut n = 0;
    while let Some(row) = rows.try_next().await.expect("stream") {
        std::hint::black_box(decode_sample(&row));
        n += 1;
    }
    n
}

/// The kit's stream of `select`'s samples, each kept as read; how many.
pub async fn kit_stream<X: Executor>(repo: &Repo<'_, X>, select: &SelectStatement) -> usize {
    let mut rows = pin!(repo.stream::<Sample>(select));
    let mut n = 0;
    while let Some(row) = rows.try_next().await.expect("stream") {
        std::hint::black_box(row);
        n += 1;
    }
    n
}

/// The kit's update of `a` with `is_admin` set to `admin`.
pub async fn kit_update<X: Executor>(repo: &Repo<'_, X>, mut a: Account, admin: bool) -> Account {
    a.is_admin = admin;
    repo.update(&a).await.expect("update")
}

/// The kit's patch of `is_admin` alone, with the version the caller holds.
pub async fn kit_patch<X: Executor>(
    repo: &Repo<'_, X>,
    id: Uuid,
    version: i32,
    admin: bool,
) -> Account {
    let patch = AccountPatch {
        is_admin: Some(admin),
        ..Default::default()
    };
    repo.patch(id, version, &patch).await.expect("patch")
}

/// The kit's get by id, the row kept.
pub async fn kit_get<X: Executor>(repo: &Repo<'_, X>, id: Uuid) {
    let a: Account = repo.get(id).await.expect("get");
    std::hint::black_box(a);
}
