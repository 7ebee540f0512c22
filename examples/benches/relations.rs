//! Relations against hand-written tokio-postgres, in one run, on connections
//! from the same pool and server: two workloads of Diesel's benchmark suite
//! (diesel_bench), on convention-shaped tables.
//!
//! - loading associations: 100 users, 10 posts each, 10 comments per post,
//!   into `Vec<(User, Vec<(Post, Vec<Comment>)>)>` — the kit's loads vs
//!   prepared `= ANY($1)` statements grouped in a HashMap, and the naive
//!   one-query-per-row loop;
//! - medium complex query: `users LEFT JOIN posts ... WHERE hair_color = $1`
//!   into `Vec<(User, Option<Post>)>` for N = 1, 100 and 10,000 users.
//!
//! `cargo bench -p ordinance-examples --bench relations` prints medians and
//! ratios. Pin it (`taskset -c 1 cargo bench ...`): the throwaway server is
//! its child and shares the placement.

mod common;

use std::collections::HashMap;

use deadpool_postgres::ClientWrapper;
use ordinance::batch::insert_many_count;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::Connection;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::relation::left_join_children;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tokio_postgres::{Client, Row};

#[derive(Entity, Debug, Clone)]
pub struct User {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub name: String,
    #[column(max_len = 20)]
    pub hair_color: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Debug, Clone)]
pub struct Post {
    pub id: Uuid,
    #[column(references = User, on_delete = "cascade")]
    pub user_id: Uuid,
    #[column(max_len = 200)]
    pub title: String,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    #[column(references = Post, on_delete = "cascade")]
    pub post_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

type Tree = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

const USERS_COLS: &str = "id, name, hair_color, created_at, updated_at, deleted_at, version";
const POSTS_COLS: &str = "id, user_id, title, body, created_at, updated_at, deleted_at, version";
const COMMENTS_COLS: &str = "id, post_id, text, created_at, updated_at, deleted_at, version";

fn user(row: &Row, at: usize) -> User {
    User {
        id: row.get(at),
        name: row.get(at + 1),
        hair_color: row.get(at + 2),
        created_at: row.get(at + 3),
        updated_at: row.get(at + 4),
        deleted_at: row.get(at + 5),
        version: row.get(at + 6),
    }
}

fn post(row: &Row, at: usize) -> Post {
    Post {
        id: row.get(at),
        user_id: row.get(at + 1),
        title: row.get(at + 2),
        body: row.get(at + 3),
        created_at: row.get(at + 4),
        updated_at: row.get(at + 5),
        deleted_at: row.get(at + 6),
        version: row.get(at + 7),
    }
}

fn comment(row: &Row) -> Comment {
    Comment {
        id: row.get(0),
        post_id: row.get(1),
        text: row.get(2),
        created_at: row.get(3),
        updated_at: row.get(4),
        deleted_at: row.get(5),
        version: row.get(6),
    }
}

/// The kit: three statements, one per level.
async fn kit_tree(repo: &Repo<'_, Connection>) -> Tree {
    let users = repo
        .list::<User>(&ordinance::query::live::<User>())
        .await
        .expect("users");
    let posts = repo.children(&users, Post::USER).await.expect("posts");
    let mut comments = repo
        .children(posts.all(), Comment::POST)
        .await
        .expect("comments");
    posts.attach_with(users, |p| {
        let c = comments.take(p.id);
        (p, c)
    })
}

/// The careful hand-written version: prepared `= ANY($1)` statements and
/// HashMap grouping.
async fn hand_tree(client: &ClientWrapper) -> Tree {
    let users_sql = format!("SELECT {USERS_COLS} FROM users WHERE deleted_at IS NULL");
    let posts_sql = format!(
        "SELECT {POSTS_COLS} FROM posts WHERE user_id = ANY($1) AND deleted_at IS NULL ORDER BY id"
    );
    let comments_sql = format!(
        "SELECT {COMMENTS_COLS} FROM comments WHERE post_id = ANY($1) AND deleted_at IS NULL ORDER BY id"
    );
    let s = client.prepare_cached(&users_sql).await.expect("prepare");
    let users: Vec<User> = client
        .query(&s, &[])
        .await
        .expect("users")
        .iter()
        .map(|r| user(r, 0))
        .collect();
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let s = client.prepare_cached(&posts_sql).await.expect("prepare");
    let mut posts: HashMap<Uuid, Vec<Post>> = HashMap::new();
    let mut post_ids = Vec::new();
    for r in client.query(&s, &[&ids]).await.expect("posts") {
        let p = post(&r, 0);
        post_ids.push(p.id);
        posts.entry(p.user_id).or_default().push(p);
    }
    let s = client.prepare_cached(&comments_sql).await.expect("prepare");
    let mut comments: HashMap<Uuid, Vec<Comment>> = HashMap::new();
    for r in client.query(&s, &[&post_ids]).await.expect("comments") {
        let c = comment(&r);
        comments.entry(c.post_id).or_default().push(c);
    }
    users
        .into_iter()
        .map(|u| {
            let ps = posts
                .remove(&u.id)
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let cs = comments.remove(&p.id).unwrap_or_default();
                    (p, cs)
                })
                .collect();
            (u, ps)
        })
        .collect()
}

/// The naive loop: one query per user for posts, one per post for comments.
async fn naive_tree(client: &ClientWrapper) -> Tree {
    let users_sql = format!("SELECT {USERS_COLS} FROM users WHERE deleted_at IS NULL");
    let posts_sql = format!(
        "SELECT {POSTS_COLS} FROM posts WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id"
    );
    let comments_sql = format!(
        "SELECT {COMMENTS_COLS} FROM comments WHERE post_id = $1 AND deleted_at IS NULL ORDER BY id"
    );
    let (su, sp, sc) = (
        client.prepare_cached(&users_sql).await.expect("prepare"),
        client.prepare_cached(&posts_sql).await.expect("prepare"),
        client.prepare_cached(&comments_sql).await.expect("prepare"),
    );
    let mut tree = Vec::new();
    for r in client.query(&su, &[]).await.expect("users") {
        let u = user(&r, 0);
        let mut ps = Vec::new();
        for r in client.query(&sp, &[&u.id]).await.expect("posts") {
            let p = post(&r, 0);
            let cs = client
                .query(&sc, &[&p.id])
                .await
                .expect("comments")
                .iter()
                .map(comment)
                .collect();
            ps.push((p, cs));
        }
        tree.push((u, ps));
    }
    tree
}

async fn seed_tree(client: &mut Client) {
    let users: Vec<NewUser> = (0..100)
        .map(|i| NewUser {
            name: format!("user {i}"),
            hair_color: Some(if i % 2 == 0 { "black" } else { "brown" }.into()),
        })
        .collect();
    let users = ordinance::batch::insert_many(client, &users)
        .await
        .expect("users");
    let posts: Vec<NewPost> = users
        .iter()
        .flat_map(|u| {
            (0..10).map(move |i| NewPost {
                user_id: u.id,
                title: format!("post {i} by {}", u.name),
                body: Some("body".into()),
            })
        })
        .collect();
    let posts = ordinance::batch::insert_many(client, &posts)
        .await
        .expect("posts");
    let comments: Vec<NewComment> = posts
        .iter()
        .flat_map(|p| {
            (0..10).map(move |i| NewComment {
                post_id: p.id,
                text: format!("comment {i} on {}", p.title),
            })
        })
        .collect();
    insert_many_count(client, &comments)
        .await
        .expect("comments");
}

/// N users, half with black hair, each with one post.
async fn seed_join(client: &mut Client, n: usize) {
    client
        .batch_execute("TRUNCATE users CASCADE")
        .await
        .expect("truncate");
    let users: Vec<NewUser> = (0..n)
        .map(|i| NewUser {
            name: format!("user {i}"),
            hair_color: Some(if i % 2 == 0 { "black" } else { "brown" }.into()),
        })
        .collect();
    let users = ordinance::batch::insert_many(client, &users)
        .await
        .expect("users");
    let posts: Vec<NewPost> = users
        .iter()
        .map(|u| NewPost {
            user_id: u.id,
            title: format!("post by {}", u.name),
            body: None,
        })
        .collect();
    insert_many_count(client, &posts).await.expect("posts");
    client.batch_execute("ANALYZE").await.expect("analyze");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ddl = ordinance::ddl::SchemaDdl::new(&[User::SCHEMA, Post::SCHEMA, Comment::SCHEMA])?;
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
    // The baseline: tokio-postgres with deadpool's statement cache.
    let (client, connection) = db.config().connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    let base_conn = ClientWrapper::new(client, task);
    let base: &ClientWrapper = &base_conn;
    let pooled = Repo::new(&*kit_conn);
    let mut setup = db.connect().await?;
    seed_tree(&mut setup).await;
    setup.batch_execute("ANALYZE").await?;

    println!("loading associations: 100 users x 10 posts x 10 comments (medians)");
    let check = kit_tree(&pooled).await;
    assert_eq!(check.len(), 100);
    assert_eq!(
        check
            .iter()
            .map(|(_, p)| p.iter().map(|(_, c)| c.len()).sum::<usize>())
            .sum::<usize>(),
        10_000
    );
    let (k, b) = common::alternate(
        5,
        40,
        |_| async {
            std::hint::black_box(kit_tree(&pooled).await);
        },
        |_| async {
            std::hint::black_box(hand_tree(base).await);
        },
    )
    .await;
    common::report(
        "kit loads (3 statements)",
        k,
        b,
        "prepared = ANY($1) + HashMap",
    );
    let (n, b2) = common::alternate(
        1,
        9,
        |_| async {
            std::hint::black_box(naive_tree(base).await);
        },
        |_| async {
            std::hint::black_box(hand_tree(base).await);
        },
    )
    .await;
    common::report(
        "naive loop (1,101 statements)",
        n,
        b2,
        "prepared = ANY($1) + HashMap",
    );

    println!("\nmedium complex query: users LEFT JOIN posts WHERE hair_color = $1 (medians)");
    let join_sql = format!(
        "SELECT {}, {} FROM users LEFT JOIN posts ON posts.user_id = users.id AND posts.deleted_at IS NULL \
         WHERE users.deleted_at IS NULL AND users.hair_color = $1",
        USERS_COLS
            .split(", ")
            .map(|c| format!("users.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        POSTS_COLS
            .split(", ")
            .map(|c| format!("posts.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    for (n, runs) in [(1usize, 2000usize), (100, 1000), (10_000, 30)] {
        seed_join(&mut setup, n).await;
        let expected = n.div_ceil(2);
        let kit = || async {
            let q =
                left_join_children(Post::USER).filter(Expr::col(UserColumn::HairColor).eq("black"));
            let rows = pooled.list_joined(&q).await.expect("join");
            assert_eq!(rows.len(), expected);
            std::hint::black_box(rows);
        };
        let hand = || async {
            let s = base.prepare_cached(&join_sql).await.expect("prepare");
            let rows: Vec<(User, Option<Post>)> = base
                .query(&s, &[&"black"])
                .await
                .expect("join")
                .iter()
                .map(|r| {
                    let u = user(r, 0);
                    let p = r.get::<_, Option<Uuid>>(7).map(|_| post(r, 7));
                    (u, p)
                })
                .collect();
            assert_eq!(rows.len(), expected);
            std::hint::black_box(rows);
        };
        if common::only().is_some() {
            if common::run_only(&format!("kit-join-{n}"), kit).await
                || common::run_only(&format!("base-join-{n}"), hand).await
            {
                return Ok(());
            }
            continue;
        }
        let (k, b) = common::alternate(runs / 10, runs, |_| kit(), |_| hand()).await;
        common::report(
            &format!("left join, N = {n}"),
            k,
            b,
            "prepared SQL, row.get",
        );
    }
    Ok(())
}
