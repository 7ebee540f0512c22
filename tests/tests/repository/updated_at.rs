//! Every write path of the kit sets `updated_at` from the database clock
//! and moves `version` as documented: 1 on insert, + 1 on every change.
//!
//! Each write runs in a transaction whose `now()` the test reads first:
//! `now()` is the transaction's start time, so a value equal to it to the
//! microsecond came from the database, never from the client's clock.
//! Bulk changes commit per chunk, so theirs must fall between two readings
//! of the database clock and be shared by the rows of one chunk.

use ordinance::bulk::Bulk;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::transaction;
use ordinance::exec::{Connection, Transaction};
use ordinance::prelude::*;
use ordinance::query::{self, Claim};
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{batch, Entity};

/// A note with a unique title.
#[derive(Entity, Debug, Clone)]
#[allow(dead_code)]
struct Note {
    id: Uuid,
    #[column(max_len = 100, unique)]
    title: String,
    #[column(max_len = 20)]
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    version: i32,
}

fn note(title: &str) -> NewNote {
    NewNote {
        title: title.into(),
        state: "new".into(),
    }
}

async fn now(tx: &Transaction<'_>) -> ordinance::Result<DateTime<Utc>> {
    Ok(tx.query_one("SELECT now()", &[]).await?.get(0))
}

/// Runs `write` in its own transaction and checks every row it returns:
/// `updated_at` is that transaction's `now()`, `version` is `version`.
async fn check<F>(conn: &mut Connection, path: &str, version: i32, write: F)
where
    F: AsyncFnOnce(&mut Transaction<'_>) -> ordinance::Result<Vec<Note>>,
{
    let (clock, rows) = transaction(conn, async |tx| {
        let clock = now(tx).await?;
        Ok((clock, write(tx).await?))
    })
    .await
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!rows.is_empty(), "{path}: no rows");
    for row in rows {
        assert_eq!(
            row.updated_at, clock,
            "{path}: updated_at is the database's now()"
        );
        assert_eq!(row.version, version, "{path}: version");
        if version == 1 {
            assert_eq!(row.created_at, clock, "{path}: created_at of a new row");
        } else {
            assert!(row.created_at < clock, "{path}: created_at kept");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_sets_updated_at_from_the_database_and_moves_version() {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Note::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let mut conn = db.connect().await.expect("connect");

    // Single rows.
    let mut a = Note::insert_checked(&mut conn, "a").await;
    check(&mut conn, "insert_with_id", 1, async |tx| {
        Ok(vec![
            Repo::new(&*tx)
                .insert_with_id(Uuid::now_v7(), &note("b"))
                .await?,
        ])
    })
    .await;
    a.title = "a2".into();
    check(&mut conn, "update", 2, async |tx| {
        Ok(vec![Repo::new(&*tx).update(&a).await?])
    })
    .await;
    let a: Note = Repo::new(&conn).get(a.id).await.expect("a");
    check(&mut conn, "soft_delete", 3, async |tx| {
        Ok(vec![Repo::new(&*tx).soft_delete(&a).await?])
    })
    .await;
    let a: Note = Repo::new(&conn)
        .list(&query::only_deleted::<Note>())
        .await
        .expect("deleted")
        .remove(0);
    check(&mut conn, "restore", 4, async |tx| {
        Ok(vec![Repo::new(&*tx).restore(&a).await?])
    })
    .await;

    // Upserts.
    check(&mut conn, "upsert (insert)", 1, async |tx| {
        Ok(vec![
            Repo::new(&*tx).upsert(&note("u"), NoteKey::Title).await?,
        ])
    })
    .await;
    check(&mut conn, "upsert (conflict)", 2, async |tx| {
        Ok(vec![
            Repo::new(&*tx).upsert(&note("u"), NoteKey::Title).await?,
        ])
    })
    .await;
    check(&mut conn, "upsert_if_version", 3, async |tx| {
        Ok(vec![
            Repo::new(&*tx)
                .upsert_if_version(&note("u"), NoteKey::Title, 2)
                .await?,
        ])
    })
    .await;
    check(&mut conn, "upsert_many (conflict)", 4, async |tx| {
        batch::upsert_many(tx, &[note("u")], NoteKey::Title).await
    })
    .await;
    check(&mut conn, "upsert_many (insert)", 1, async |tx| {
        batch::upsert_many(tx, &[note("v"), note("w")], NoteKey::Title).await
    })
    .await;

    // Batches.
    check(&mut conn, "insert_many", 1, async |tx| {
        batch::insert_many(tx, &[note("m1"), note("m2")]).await
    })
    .await;
    check(&mut conn, "insert_many_count", 1, async |tx| {
        batch::insert_many_count(tx, &[note("c1"), note("c2")]).await?;
        by_titles(tx, &["c1", "c2"]).await
    })
    .await;
    check(&mut conn, "copy_in", 1, async |tx| {
        batch::copy_in(tx.client(), &[note("p1")]).await?;
        by_titles(tx, &["p1"]).await
    })
    .await;

    // Builders.
    check(&mut conn, "query::insert", 1, async |tx| {
        let new = note("q1");
        Repo::new(&*tx)
            .fetch(&query::insert([(Uuid::now_v7(), &new)])?)
            .await
    })
    .await;
    let q1 = by_titles_now(&conn, "q1").await;
    check(&mut conn, "query::update", 2, async |tx| {
        Repo::new(&*tx).fetch(&query::update(&q1)?).await
    })
    .await;
    let q1 = by_titles_now(&conn, "q1").await;
    check(&mut conn, "query::soft_delete", 3, async |tx| {
        Repo::new(&*tx).fetch(&query::soft_delete(&q1)?).await
    })
    .await;
    let q1: Note = Repo::new(&conn)
        .list(query::only_deleted::<Note>().and_where(Expr::col(NoteColumn::Title).eq("q1")))
        .await
        .expect("q1")
        .remove(0);
    check(&mut conn, "query::restore", 4, async |tx| {
        Repo::new(&*tx).fetch(&query::restore(&q1)?).await
    })
    .await;
    check(&mut conn, "query::upsert", 5, async |tx| {
        let new = note("q1");
        Repo::new(&*tx)
            .fetch(&query::upsert([(Uuid::now_v7(), &new)], NoteKey::Title)?)
            .await
    })
    .await;

    // A claim.
    check(&mut conn, "claim", 2, async |tx| {
        let claim = Claim::<Note>::new(2)
            .filter(Expr::col(NoteColumn::Title).is_in(["m1", "m2"]))
            .set(NoteColumn::State, "claimed");
        Repo::new(&*tx).claim(&claim).await
    })
    .await;

    // Bulk changes: one transaction per chunk of 1.
    let before: DateTime<Utc> = conn
        .query_one("SELECT now()", &[])
        .await
        .expect("now")
        .get(0);
    let ids: Vec<Uuid> = by_titles_now_all(&conn, &["c1", "c2"])
        .await
        .iter()
        .map(|n| n.id)
        .collect();
    let only = || {
        Bulk::<Note>::new()
            .chunk(1)
            .filter(Expr::col(NoteColumn::Id).is_in(ids.clone()))
    };
    for (path, run) in [
        ("bulk update", 0),
        ("bulk soft_delete", 1),
        ("bulk restore", 2),
    ] {
        let done = match run {
            0 => {
                only()
                    .update(&conn, vec![(NoteColumn::State, Expr::val("bulk"))])
                    .await
            }
            1 => only().soft_delete(&conn).await,
            _ => only().restore(&conn).await,
        }
        .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(done.rows, 2, "{path}");
        let after: DateTime<Utc> = conn
            .query_one("SELECT now()", &[])
            .await
            .expect("now")
            .get(0);
        let rows = conn
            .query(
                "SELECT updated_at, version FROM notes WHERE id = ANY($1) ORDER BY id",
                &[&ids],
            )
            .await
            .expect("rows");
        for row in rows {
            let updated: DateTime<Utc> = row.get(0);
            assert!(
                before < updated && updated <= after,
                "{path}: by the database clock"
            );
            assert_eq!(row.get::<_, i32>(1), 2 + run, "{path}: version");
        }
    }
}

impl Note {
    /// Inserts a note in its own transaction, checked like the others.
    async fn insert_checked(conn: &mut Connection, title: &str) -> Note {
        let mut out = None;
        check(conn, "insert", 1, async |tx| {
            let n = Repo::new(&*tx).insert(&note(title)).await?;
            out = Some(n.clone());
            Ok(vec![n])
        })
        .await;
        out.expect("inserted")
    }
}

async fn by_titles(tx: &Transaction<'_>, titles: &[&str]) -> ordinance::Result<Vec<Note>> {
    let titles: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    Repo::new(tx)
        .list(query::live::<Note>().and_where(Expr::col(NoteColumn::Title).is_in(titles)))
        .await
}

async fn by_titles_now(conn: &Connection, title: &str) -> Note {
    by_titles_now_all(conn, &[title]).await.remove(0)
}

async fn by_titles_now_all(conn: &Connection, titles: &[&str]) -> Vec<Note> {
    let titles: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    Repo::new(conn)
        .list(query::live::<Note>().and_where(Expr::col(NoteColumn::Title).is_in(titles)))
        .await
        .expect("notes")
}
