//! Relations against hand-written tokio-postgres, in one run, on connections
//! from the same pool and server: two workloads of Diesel's benchmark suite
//! (diesel_bench), on convention-shaped tables.
//!
//! - loading associations: 100 users, 10 posts each, 10 comments per post,
//!   into `Vec<(User, Vec<(Post, Vec<Comment>)>)>` — the kit's loads vs
//!   `= ANY($1)` statements prepared once, grouped in a HashMap, and the naive
//!   one-query-per-row loop;
//! - medium complex query: `users LEFT JOIN posts ... WHERE hair_color = $1`
//!   into `Vec<(User, Option<Post>)>` for N = 1, 100 and 10,000 users.
//!
//! `cargo bench -p ordinance-examples --bench relations` prints medians and
//! ratios. Pin it (`taskset -c 1 cargo bench ...`): the throwaway server is
//! its child and shares the placement.

mod common;

use common::tree::{
    comment, hand_tree, kit_tree, post, seed_tree, user, Comment, NewPost, NewUser, Post, Tree,
    TreeStatements, User, UserColumn, COMMENTS_COLS, POSTS_COLS, USERS_COLS,
};

use deadpool_postgres::ClientWrapper;
use ordinance::batch::insert_many_count;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::relation::left_join_children;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tokio_postgres::Client;

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
    let statements = TreeStatements::prepare(base).await;
    let statements = &statements;
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
            std::hint::black_box(hand_tree(base, statements).await);
        },
    )
    .await;
    common::report(
        "kit loads (3 statements)",
        k,
        b,
        "= ANY($1) prepared once + HashMap",
    );
    let (n, b2) = common::alternate(
        1,
        9,
        |_| async {
            std::hint::black_box(naive_tree(base).await);
        },
        |_| async {
            std::hint::black_box(hand_tree(base, statements).await);
        },
    )
    .await;
    common::report(
        "naive loop (1,101 statements)",
        n,
        b2,
        "= ANY($1) prepared once + HashMap",
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
