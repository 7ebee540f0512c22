//! diesel_bench's association workload: users, their posts, the posts'
//! comments, loaded by the kit and by a careful hand-written loader.

use std::collections::HashMap;

use ordinance::batch::insert_many_count;
use ordinance::exec::Executor;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use tokio_postgres::{Client, Row, Statement};

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

pub type Tree = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

pub const USERS_COLS: &str = "id, name, hair_color, created_at, updated_at, deleted_at, version";
pub const POSTS_COLS: &str =
    "id, user_id, title, body, created_at, updated_at, deleted_at, version";
pub const COMMENTS_COLS: &str = "id, post_id, text, created_at, updated_at, deleted_at, version";

pub fn user(row: &Row, at: usize) -> User {
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

pub fn post(row: &Row, at: usize) -> Post {
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

pub fn comment(row: &Row) -> Comment {
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
pub async fn kit_tree<X: Executor>(repo: &Repo<'_, X>) -> Tree {
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

/// The hand-written loader's statements, prepared once.
pub struct TreeStatements {
    users: Statement,
    posts: Statement,
    comments: Statement,
}

impl TreeStatements {
    /// Prepares the three `= ANY($1)` statements on `client`.
    pub async fn prepare(client: &Client) -> TreeStatements {
        let users_sql = format!("SELECT {USERS_COLS} FROM users WHERE deleted_at IS NULL");
        let posts_sql = format!(
            "SELECT {POSTS_COLS} FROM posts WHERE user_id = ANY($1) AND deleted_at IS NULL ORDER BY id"
        );
        let comments_sql = format!(
            "SELECT {COMMENTS_COLS} FROM comments WHERE post_id = ANY($1) AND deleted_at IS NULL ORDER BY id"
        );
        TreeStatements {
            users: client.prepare(&users_sql).await.expect("prepare"),
            posts: client.prepare(&posts_sql).await.expect("prepare"),
            comments: client.prepare(&comments_sql).await.expect("prepare"),
        }
    }
}

/// The careful hand-written version: `= ANY($1)` statements prepared once
/// and HashMap grouping.
pub async fn hand_tree(client: &Client, s: &TreeStatements) -> Tree {
    let users: Vec<User> = client
        .query(&s.users, &[])
        .await
        .expect("users")
        .iter()
        .map(|r| user(r, 0))
        .collect();
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let mut posts: HashMap<Uuid, Vec<Post>> = HashMap::new();
    let mut post_ids = Vec::new();
    for r in client.query(&s.posts, &[&ids]).await.expect("posts") {
        let p = post(&r, 0);
        post_ids.push(p.id);
        posts.entry(p.user_id).or_default().push(p);
    }
    let mut comments: HashMap<Uuid, Vec<Comment>> = HashMap::new();
    for r in client
        .query(&s.comments, &[&post_ids])
        .await
        .expect("comments")
    {
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

/// 100 users, 10 posts each, 10 comments per post.
pub async fn seed_tree(client: &mut Client) {
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
