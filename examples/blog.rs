//! A small blog schema: users, posts, comments and tags.
//!
//! `cargo run --example blog` applies the checked-in migrations (generated
//! from the entities in `blog_entities.rs`, printing their SQL first) to a
//! scratch database (on the server in `DATABASE_URL` when set, otherwise
//! on a throwaway PostgreSQL started from the binaries on this machine), then
//! works with rows through the repository: insert, read, update, a caught
//! stale-version conflict, soft delete and restore, transactions, keyset
//! pages with opaque cursors, and relations: posts with their comments,
//! replies and tags, one statement per level, and a join into tuples;
//! a comment's "comment added" event published through the outbox in
//! the comment's transaction and delivered by a relay; the post's history.

use ordinance::ddl::SchemaDdl;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::outbox::Relay;
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::repo::Repo;
use ordinance::testing::{TestDatabase, TestServer};
use ordinance::Error;
use ordinance_examples::blog_entities::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = SchemaDdl::new(&schemas())?;
    println!(
        "-- the entities imply {} tables, in dependency order: {}",
        ddl.tables().len(),
        ddl.tables()
            .iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
            .join(", ")
    );

    // The checked-in migrations (generated from the entities; the drift test
    // in tests/migrations.rs fails if they fall behind) build the schema.
    let server = TestServer::global()?;
    let db = TestDatabase::create().await?;
    let mut client = db.connect().await?;
    // Built into the binary: the example runs from any directory.
    let migrations = ordinance::embed_migrations!("migrations")?;
    println!("{}", migrations.dry_run(&client).await?);
    for applied in migrations.up(&mut client).await? {
        println!(
            "applied migration {}_{} in {} ms",
            applied.version,
            applied.name,
            applied.duration.as_millis()
        );
    }
    // The audit events' partitions: this month's and the next two (a
    // daily job keeps them ahead and drops the expired).
    let made = ordinance::partition::maintain::<AuditEvent>(
        &client,
        ordinance::deps::chrono::Utc::now(),
        2,
    )
    .await?;
    println!("audit event partitions made: {:?}", made.created);
    println!(
        "to database \"{}\" on {}",
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
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
             ORDER BY c.relname",
            &[],
        )
        .await?;
    println!(
        "\n{:<14} {:>7} {:>11} {:>7}",
        "table", "columns", "constraints", "indexes"
    );
    for r in rows {
        println!(
            "{:<14} {:>7} {:>11} {:>7}",
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
    let event = repo
        .insert(&NewAuditEvent {
            action: "post created".into(),
            subject: post.id,
        })
        .await?;
    let partition: String = client
        .query_one(
            "SELECT tableoid::regclass::text FROM audit_events WHERE id = $1",
            &[&event.id],
        )
        .await?
        .try_get(0)?;
    println!(
        "audit event \"{}\" stored in partition {partition}",
        event.action
    );

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

    // Relations, from the foreign keys: posts with their comments and tags,
    // one statement per level whatever the number of posts, soft-deleted
    // rows left out on both sides.
    let grace = repo
        .insert(&NewUser {
            email: "grace@example.com".into(),
            display_name: Some("Grace".into()),
            is_admin: false,
        })
        .await?;
    // A relay delivers the outbox's events: woken by the outbox's
    // notification when a transaction that published commits.
    let pool = Pool::connect(db.config().clone(), PoolOptions::default()).await?;
    let relay = Relay::<OutboxEvent>::new(pool)?.listen(db.config().clone());
    let (told, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(async move {
        relay
            .run(
                move |event: OutboxEvent| {
                    let told = told.clone();
                    async move {
                        let added: CommentAdded = serde_json::from_value(event.payload)?;
                        // A real service would send the mail here.
                        let _ = told.send(added);
                        Ok::<(), serde_json::Error>(())
                    }
                },
                async move {
                    let _ = stopped.await;
                },
            )
            .await
    });
    // The comment and its "comment added" event commit together, or not
    // at all.
    let tx = client.transaction().await?;
    let in_tx = Repo::new(&tx);
    let first = in_tx
        .insert(&NewComment {
            post_id: post.id,
            author_id: Some(grace.id),
            parent_id: None,
            body: "Does it compute Bernoulli numbers?".into(),
        })
        .await?;
    in_tx
        .publish(&CommentAdded {
            post_id: post.id,
            comment_id: first.id,
            notify: post.author_id,
        })
        .await?;
    tx.commit().await?;
    let added = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await?
        .ok_or("the relay stopped")?;
    println!(
        "outbox: told {} of comment {} on \"{}\"",
        if added.notify == ada.id {
            "Ada"
        } else {
            "someone"
        },
        added.comment_id,
        post.title,
    );
    let _ = stop.send(());
    let delivered = relay.await??;
    println!(
        "the relay stopped after {} delivery; events waiting: {}",
        delivered.delivered,
        Repo::new(&client).count::<OutboxEvent>().await?
    );
    let repo = Repo::new(&client);
    repo.insert(&NewComment {
        post_id: post.id,
        author_id: Some(ada.id),
        parent_id: Some(first.id),
        body: "It does: note G.".into(),
    })
    .await?;
    let engines = repo
        .insert(&NewTag {
            name: "engines".into(),
        })
        .await?;
    repo.insert(&NewPostTag {
        post_id: post.id,
        tag_id: engines.id,
    })
    .await?;
    let posts = repo
        .list::<Post>(
            &ordinance::query::live::<Post>()
                .and_where(Expr::col(PostColumn::AuthorId).eq(ada.id))
                .to_owned(),
        )
        .await?;
    let mut comments = repo.children(&posts, Comment::POST).await?;
    let mut replies = repo.children(comments.all(), Comment::PARENT).await?;
    for (p, tags) in repo
        .with_related(posts, PostTag::POST, PostTag::TAG)
        .await?
    {
        let on_post = comments.take(p.id);
        if on_post.is_empty() && tags.is_empty() {
            continue;
        }
        let tags: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        println!(
            "post \"{}\": {} comment(s), {} repl(ies), tags {tags:?}",
            p.title,
            on_post.len(),
            on_post
                .iter()
                .map(|c| replies.take(c.id).len())
                .sum::<usize>()
        );
    }
    // A join decoded into tuples: each comment with its author, if any.
    let with_authors = ordinance::relation::left_join_parent(Comment::AUTHOR)
        .filter(Expr::col(CommentColumn::PostId).eq(post.id));
    for (comment, author) in repo.list_joined(&with_authors).await? {
        println!(
            "  {:?} by {}",
            comment.body,
            author.map_or("someone deleted".into(), |a| a.email)
        );
    }

    repo.purge::<Post>(post.id).await?;
    // Posts keep their history (#[entity(history)]): every version, the
    // purge included, written by a trigger.
    let versions = repo.history::<Post>(post.id).await?;
    let operations: Vec<_> = versions.iter().map(|v| v.operation).collect();
    println!("the post's history: {operations:?}");
    println!(
        "purged the post; its tag links went with it (ON DELETE CASCADE): post links = {}",
        repo.count::<PostTag>().await?
    );

    let reverted = migrations.down_to(&mut client, 0).await?;
    println!(
        "\n{} migration(s) reverted: the database is empty again",
        reverted.len()
    );
    Ok(())
}
