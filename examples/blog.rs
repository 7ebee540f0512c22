//! A small blog schema: users, posts, comments and tags.
//!
//! `cargo run --example blog` prints the DDL the entities imply, applies it
//! to a scratch database (on the server in `DATABASE_URL` when set, otherwise
//! on a throwaway PostgreSQL started from the binaries on this machine), then
//! works with rows through the repository: insert, read, update, a caught
//! stale-version conflict, soft delete and restore, transactions, and keyset
//! pages with opaque cursors.

use ordinance::ddl::SchemaDdl;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::{TestDatabase, TestServer};
use ordinance::Error;

/// Where a post stands in its life.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostStatus {
    Draft,
    Published,
    Archived,
}

/// People who can sign in.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc))]
pub struct User {
    pub id: Uuid,
    /// Sign-in address, unique among live users.
    #[column(max_len = 320, unique)]
    pub email: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// An article written by a user.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(status asc, created_at desc))]
pub struct Post {
    pub id: Uuid,
    #[column(references = User, on_delete = "cascade")]
    pub author_id: Uuid,
    #[column(min_len = 1, max_len = 200)]
    pub title: String,
    pub body: String,
    pub status: PostStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A reader's reply to a post, possibly to another comment.
#[derive(Entity, Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    #[column(references = Post, on_delete = "cascade")]
    pub post_id: Uuid,
    /// Kept when the author is purged, so threads stay readable.
    #[column(references = User, on_delete = "set null")]
    pub author_id: Option<Uuid>,
    #[column(references = Comment)]
    pub parent_id: Option<Uuid>,
    #[column(min_len = 1, max_len = 5000)]
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A label posts can carry.
#[derive(Entity, Debug, Clone)]
pub struct Tag {
    pub id: Uuid,
    #[column(min_len = 1, max_len = 40, unique)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Which tags a post carries.
#[derive(Entity, Debug, Clone)]
#[entity(unique(post_id, tag_id))]
pub struct PostTag {
    pub id: Uuid,
    #[column(references = Post, on_delete = "cascade")]
    pub post_id: Uuid,
    #[column(references = Tag, on_delete = "cascade")]
    pub tag_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = SchemaDdl::new(&[
        PostTag::SCHEMA,
        Comment::SCHEMA,
        Tag::SCHEMA,
        Post::SCHEMA,
        User::SCHEMA,
    ])?;
    println!("-- up: {} tables in dependency order\n", ddl.tables().len());
    println!("{}", ddl.up());
    println!("-- down\n{}", ddl.down());

    let server = TestServer::global()?;
    let db = TestDatabase::create().await?;
    let client = db.connect().await?;
    client.batch_execute(&ddl.up()).await?;
    println!(
        "applied to database \"{}\" on {}",
        db.name(),
        if server.is_embedded() {
            "a throwaway PostgreSQL (removed when this program exits)"
        } else {
            "the server in DATABASE_URL (dropped when this program exits)"
        }
    );
    let rows = client
        .query(
            "SELECT c.relname::text,
                    (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),
                    (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid),
                    (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname",
            &[],
        )
        .await?;
    println!(
        "\n{:<12} {:>7} {:>11} {:>7}",
        "table", "columns", "constraints", "indexes"
    );
    for r in rows {
        println!(
            "{:<12} {:>7} {:>11} {:>7}",
            r.get::<_, String>(0),
            r.get::<_, i64>(1),
            r.get::<_, i64>(2),
            r.get::<_, i64>(3)
        );
    }

    println!("\n-- rows");
    let repo = Repo::new(&client);
    let ada = repo
        .insert(&NewUser {
            email: "ada@example.com".into(),
            display_name: Some("Ada".into()),
            is_admin: true,
        })
        .await?;
    println!(
        "inserted user {} ({}), version {}",
        ada.email, ada.id, ada.version
    );
    let post = repo
        .insert(&NewPost {
            author_id: ada.id,
            title: "Notes on the engine".into(),
            body: "It weaves algebraic patterns.".into(),
            status: PostStatus::Draft,
        })
        .await?;
    println!("inserted post \"{}\" as {:?}", post.title, post.status);

    let mut published = repo.get::<Post>(post.id).await?;
    let stale_copy = published.clone();
    published.status = PostStatus::Published;
    let published = repo.update(&published).await?;
    println!(
        "updated post to {:?}: version {} -> {}",
        published.status, post.version, published.version
    );

    let mut late = stale_copy;
    late.title = "An edit made from an old copy".into();
    match repo.update(&late).await {
        Err(e @ Error::StaleVersion { .. }) => println!("refused a lost update: {e}"),
        other => return Err(format!("expected a stale-version conflict, got {other:?}").into()),
    }

    let hidden = repo.soft_delete(&published).await?;
    println!(
        "soft-deleted the post: visible = {}, live posts = {}",
        repo.exists::<Post>(post.id).await?,
        repo.count::<Post>().await?
    );
    let back = repo.restore(&hidden).await?;
    println!(
        "restored it: visible = {}, version {}",
        repo.exists::<Post>(post.id).await?,
        back.version
    );

    let mut client = client;
    let tx = client.transaction().await?;
    let in_tx = Repo::new(&tx);
    let rust = in_tx
        .insert(&NewTag {
            name: "rust".into(),
        })
        .await?;
    in_tx
        .insert(&NewPostTag {
            post_id: post.id,
            tag_id: rust.id,
        })
        .await?;
    tx.commit().await?;
    println!("committed a tag and its link in one transaction");

    let tx = client.transaction().await?;
    Repo::new(&tx)
        .insert(&NewTag {
            name: "draft-idea".into(),
        })
        .await?;
    tx.rollback().await?;
    let repo = Repo::new(&client);
    println!(
        "rolled back another: tags = {}, post links = {}",
        repo.count::<Tag>().await?,
        repo.count::<PostTag>().await?
    );

    // Keyset pages: newest first within each status, three at a time.
    let drafts: Vec<NewPost> = (1..=6)
        .map(|i| NewPost {
            author_id: ada.id,
            title: format!("Draft {i}"),
            body: String::new(),
            status: PostStatus::Draft,
        })
        .collect();
    ordinance::batch::insert_many(&mut client, &drafts).await?;
    let repo = Repo::new(&client);
    let pager = Pager::<Post>::new()?
        .size(3)?
        .filter(Expr::col(PostColumn::AuthorId).eq(ada.id));
    let mut page = repo.first_page(&pager).await?;
    let mut n = 1;
    loop {
        let titles: Vec<&str> = page.items.iter().map(|p| p.title.as_str()).collect();
        println!("page {n}: {titles:?}, more after: {}", page.has_next);
        let Some(next) = page.next.clone() else { break };
        if n == 1 {
            println!("  next cursor (opaque, URL-safe): {next}");
        }
        page = repo.page_at(&pager, &next).await?;
        n += 1;
    }
    let previous = repo
        .page_at(&pager, page.previous.as_deref().ok_or("a previous page")?)
        .await?;
    let titles: Vec<&str> = previous.items.iter().map(|p| p.title.as_str()).collect();
    println!("back one page: {titles:?}");

    repo.purge::<Post>(post.id).await?;
    println!(
        "purged the post; its tag links went with it (ON DELETE CASCADE): post links = {}",
        repo.count::<PostTag>().await?
    );

    client.batch_execute(&ddl.down()).await?;
    println!("\ndown migration applied: the database is empty again");
    Ok(())
}
