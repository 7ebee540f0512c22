//! Enums under `types.enums = "native"`: each `DbEnum` is a PostgreSQL
//! enum type, and every path of the kit reads and writes it — as the
//! application role, on a tenant table through a `Cluster`, in batches
//! (binary `COPY`, and the staged insert a tenant table takes), in pages
//! that walk the type's own order, in a caller's filters and bulk changes.

use std::time::Duration;

use ordinance::batch::insert_many;
use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::query;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;
use ordinance_example_prefixed::{
    schemas, Author, Book, BookColumn, BookFormat, BookOrder, BookPatch, NewAuthor, NewBook,
    NewShelf, Shelf, ShelfColumn, ShelfKey, ShelfKind,
};

fn book(author: &Author, title: &str, format: BookFormat) -> NewBook {
    NewBook {
        author_id: author.id,
        title: title.into(),
        pages: 100,
        format,
    }
}

async fn author(repo: &Repo<'_, impl ordinance::exec::Executor>, email: &str) -> Author {
    repo.insert(&NewAuthor {
        email: email.into(),
        name: "Writer".into(),
    })
    .await
    .unwrap()
}

/// How many live books match `condition`.
async fn count_where(repo: &Repo<'_, impl ordinance::exec::Executor>, condition: Expr) -> i64 {
    repo.count_matching::<Book>(&query::live::<Book>().and_where(condition).to_owned())
        .await
        .unwrap()
}

#[test]
fn the_ddl_creates_the_types_and_no_value_checks() {
    let ddl = ordinance::ddl::SchemaDdl::new(&schemas()).unwrap();
    let up = ddl.up();
    assert!(
        up.contains("CREATE TYPE \"book_format\" AS ENUM ('hardcover', 'paperback', 'ebook');"),
        "{up}"
    );
    assert!(
        up.find("CREATE TYPE \"shelf_kind\"") < up.find("CREATE TABLE"),
        "types before tables:\n{up}"
    );
    assert!(
        up.contains("\"format\" \"book_format\" NOT NULL DEFAULT 'paperback'"),
        "{up}"
    );
    // The type holds the values: no CHECK (col IN (...)) beside it.
    assert!(!up.contains("_valid"), "{up}");
    assert!(
        ddl.down()
            .trim_end()
            .ends_with("DROP TYPE \"book_format\", \"shelf_kind\";"),
        "{}",
        ddl.down()
    );
    // The statements cast each enum parameter to its type.
    let insert = &<Book as ordinance::Entity>::statements().insert;
    assert!(insert.contains("$5::\"book_format\""), "{insert}");
}

#[tokio::test]
async fn every_write_and_read_path_takes_the_native_type_as_the_application_role() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let mut conn = db.connect_as_app().await.unwrap();
    let repo = Repo::new(&conn);
    let writer = author(&repo, "enums@example.com").await;

    // Insert, get, update, patch, soft delete.
    let hard = repo
        .insert(&book(&writer, "Hard", BookFormat::Hardcover))
        .await
        .unwrap();
    assert_eq!(hard.format, BookFormat::Hardcover);
    assert_eq!(
        repo.get::<Book>(hard.id).await.unwrap().format,
        BookFormat::Hardcover
    );
    let mut changed = hard.clone();
    changed.format = BookFormat::Ebook;
    let changed = repo.update(&changed).await.unwrap();
    assert_eq!(changed.format, BookFormat::Ebook);
    let patched = repo
        .patch(
            changed.id,
            changed.version,
            &BookPatch {
                format: Some(BookFormat::Paperback),
                ..BookPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.format, BookFormat::Paperback);

    // A batch by binary COPY.
    let batch: Vec<NewBook> = [BookFormat::Ebook, BookFormat::Hardcover, BookFormat::Ebook]
        .into_iter()
        .enumerate()
        .map(|(i, f)| book(&writer, &format!("Batch {i}"), f))
        .collect();
    let stored = insert_many(&mut conn, &batch).await.unwrap();
    assert_eq!(
        stored.iter().map(|b| b.format).collect::<Vec<_>>(),
        [BookFormat::Ebook, BookFormat::Hardcover, BookFormat::Ebook]
    );

    // A caller's filters compare enum with enum: `=`, `IN`.
    let repo = Repo::new(&conn);
    let ebooks = repo
        .list::<Book>(
            &query::live::<Book>()
                .and_where(Expr::col(BookColumn::Format).eq(BookFormat::Ebook))
                .to_owned(),
        )
        .await
        .unwrap();
    assert_eq!(ebooks.len(), 2);
    let either =
        Expr::col(BookColumn::Format).is_in([BookFormat::Hardcover, BookFormat::Paperback]);
    assert_eq!(count_where(&repo, either).await, 2);

    // A bulk change sets the type's value.
    let progress = ordinance::bulk::Bulk::<Book>::new()
        .filter(Expr::col(BookColumn::Format).eq(BookFormat::Ebook))
        .update(&conn, [(BookColumn::Format, BookFormat::Hardcover)])
        .await
        .unwrap();
    assert_eq!(progress.rows, 2);
    let repo = Repo::new(&conn);
    let hardcovers = Expr::col(BookColumn::Format).eq(BookFormat::Hardcover);
    assert_eq!(count_where(&repo, hardcovers).await, 3);
    let gone = repo.soft_delete(&patched).await.unwrap();
    assert_eq!(gone.format, BookFormat::Paperback);
}

#[tokio::test]
async fn pages_keyed_by_an_enum_walk_the_types_own_order() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect_as_app().await.unwrap();
    let repo = Repo::new(&conn);
    let writer = author(&repo, "pages@example.com").await;
    // Alphabetically ebook < hardcover < paperback; the type says
    // hardcover < paperback < ebook.
    for (i, f) in [
        BookFormat::Ebook,
        BookFormat::Paperback,
        BookFormat::Hardcover,
        BookFormat::Ebook,
        BookFormat::Hardcover,
        BookFormat::Paperback,
        BookFormat::Ebook,
    ]
    .into_iter()
    .enumerate()
    {
        repo.insert(&book(&writer, &format!("B{i}"), f))
            .await
            .unwrap();
    }
    let pager = Pager::<Book>::new()
        .unwrap()
        .order(BookOrder::Format)
        .size(2)
        .unwrap();
    let mut page = repo.first_page(&pager).await.unwrap();
    let mut seen: Vec<BookFormat> = page.items.iter().map(|b| b.format).collect();
    while let Some(next) = page.next.clone() {
        page = repo.page_at(&pager, &next).await.unwrap();
        seen.extend(page.items.iter().map(|b| b.format));
    }
    use BookFormat::*;
    assert_eq!(
        seen,
        [Hardcover, Hardcover, Paperback, Paperback, Ebook, Ebook, Ebook]
    );
}

async fn tenant_cluster(db: &TestDatabase) -> Cluster {
    let pool = Pool::connect(
        db.app_config().await.unwrap(),
        PoolOptions {
            max_size: 2,
            acquire_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    Cluster::new(pool, Vec::new(), ClusterOptions::default()).unwrap()
}

#[tokio::test]
async fn a_tenant_table_takes_the_type_in_single_staged_and_upserted_writes() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let app = tenant_cluster(&db).await;
    let (library, other) = (Uuid::now_v7(), Uuid::now_v7());
    let mine = app.for_tenant(library);
    let shelf = |label: &str, kind| NewShelf {
        label: label.into(),
        kind,
    };
    let reading = mine
        .repo()
        .insert(&shelf("Now", ShelfKind::Reading))
        .await
        .unwrap();
    assert_eq!(reading.kind, ShelfKind::Reading);
    // A batch into a tenant table goes through the staging table.
    let rows = [
        shelf("Later", ShelfKind::Wishlist),
        shelf("Done", ShelfKind::Finished),
    ];
    let stored = mine
        .transaction(async |tx| insert_many(tx, &rows).await)
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [ShelfKind::Wishlist, ShelfKind::Finished]
    );
    // An upsert on the label: the conflict path writes the new kind.
    let moved = mine
        .repo()
        .upsert(&shelf("Later", ShelfKind::Reading), ShelfKey::Label)
        .await
        .unwrap();
    assert_eq!(moved.kind, ShelfKind::Reading);
    assert_eq!(moved.version, 2);
    // A batch upsert, through the staging table too.
    let again = [shelf("Done", ShelfKind::Wishlist)];
    let upserted = mine
        .transaction(async |tx| ordinance::batch::upsert_many(tx, &again, ShelfKey::Label).await)
        .await
        .unwrap();
    assert_eq!(upserted[0].kind, ShelfKind::Wishlist);
    // The other tenant sees none of them, by kind or at all.
    let theirs = app
        .for_tenant(other)
        .repo()
        .count_matching::<Shelf>(
            &query::live::<Shelf>()
                .and_where(Expr::col(ShelfColumn::Kind).eq(ShelfKind::Reading))
                .to_owned(),
        )
        .await
        .unwrap();
    assert_eq!(theirs, 0);
    let ours = mine
        .repo()
        .count_matching::<Shelf>(
            &query::live::<Shelf>()
                .and_where(Expr::col(ShelfColumn::Kind).eq(ShelfKind::Reading))
                .to_owned(),
        )
        .await
        .unwrap();
    assert_eq!(ours, 2);
}

#[tokio::test]
async fn generated_rows_take_each_value_of_the_type() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let owner = db.connect().await.unwrap();
    ordinance::testing::fill(&owner, &schemas(), 30)
        .await
        .unwrap();
    let rows = owner
        .query(
            "SELECT format::text, count(*) FROM books GROUP BY 1 ORDER BY min(format)",
            &[],
        )
        .await
        .unwrap();
    let formats: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(formats, ["hardcover", "paperback", "ebook"]);
}

#[tokio::test]
async fn a_value_the_enum_does_not_know_is_a_typed_error_naming_the_column() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let owner = db.connect().await.unwrap();
    let repo = Repo::new(&owner);
    let writer = author(&repo, "unknown@example.com").await;
    // A newer release added a value this one does not know.
    owner
        .batch_execute("ALTER TYPE book_format ADD VALUE 'audiobook'")
        .await
        .unwrap();
    let row = owner
        .query_one(
            "INSERT INTO books (author_id, title, pages, format) \
             VALUES ($1, 'Heard', 1, 'audiobook') RETURNING id",
            &[&writer.id],
        )
        .await
        .unwrap();
    let id: Uuid = row.get(0);
    let err = repo.get::<Book>(id).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("format"), "{shown}");
}
