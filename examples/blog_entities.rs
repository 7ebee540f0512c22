//! The blog's entities: users, posts, comments, tags and their links.
//! `cargo run --example blog` works with them; `migrations/` holds the
//! migrations generated from them, guarded by `tests/migrations.rs`.

use ordinance::prelude::*;
use ordinance::TableSchema;

/// Where a post stands in its life (in JSON as in the database:
/// `"draft"`, `"published"`, `"archived"`).
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[entity(history, keyset(by_status = (status asc, created_at desc)))]
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

/// Events for other services (and the blog's own notifications), written
/// in the transaction of the change they announce.
#[derive(Entity, Debug, Clone)]
#[entity(outbox)]
pub struct OutboxEvent {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub topic: String,
    #[column(max_len = 100)]
    pub key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub available_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A comment was added to a post: its author is told.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CommentAdded {
    pub post_id: Uuid,
    pub comment_id: Uuid,
    /// Who to tell: the post's author.
    pub notify: Uuid,
}

impl ordinance::outbox::Event for CommentAdded {
    type Outbox = OutboxEvent;
    const TOPIC: &'static str = "comment_added";
    /// A post's notifications go out in the order its comments came.
    fn key(&self) -> String {
        self.post_id.to_string()
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// What happened on the blog, kept for thirteen months: a partition a
/// month, each dropped whole when it expires.
#[derive(Entity, Debug, Clone)]
#[entity(partitioned(interval = "1 month", keep = "13 months"))]
pub struct AuditEvent {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub action: String,
    /// The row it happened to.
    pub subject: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Every blog table, for DDL and migrations.
pub fn schemas() -> Vec<&'static TableSchema> {
    vec![
        User::SCHEMA,
        Post::SCHEMA,
        Comment::SCHEMA,
        Tag::SCHEMA,
        PostTag::SCHEMA,
        OutboxEvent::SCHEMA,
        AuditEvent::SCHEMA,
    ]
}
