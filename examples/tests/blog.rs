//! The blog's behaviour, each test in a database of its own cloned from
//! the checked-in migrations (`#[ordinance::test]`), with its users, posts
//! and tags inserted as typed fixtures before the body runs.

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::Connection;
use ordinance::page::Pager;
use ordinance::pool::Pool;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;
use ordinance_examples::blog_entities::*;

fn ada() -> NewUser {
    NewUser {
        email: "ada@example.com".into(),
        display_name: Some("Ada".into()),
        is_admin: false,
    }
}

fn draft_by(author: &User, title: &str) -> NewPost {
    NewPost {
        author_id: author.id,
        title: title.into(),
        body: String::new(),
        status: PostStatus::Draft,
    }
}

fn drafts_by(author: &User, n: usize) -> Vec<NewPost> {
    (1..=n)
        .map(|i| draft_by(author, &format!("Draft {i}")))
        .collect()
}

#[ordinance::test]
async fn publishing_a_post_moves_its_version(
    conn: Connection,
    #[fixture(ada())] author: User,
    #[fixture(draft_by(&author, "Notes on the engine"))] post: Post,
) {
    assert_eq!((post.author_id, post.version), (author.id, 1));
    let repo = Repo::new(&conn);
    let mut published = post.clone();
    published.status = PostStatus::Published;
    let published = repo.update(&published).await.unwrap();
    assert_eq!(published.version, 2);
    // The copy read before the update is stale now.
    match repo.update(&post).await {
        Err(Error::StaleVersion {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (1, 2)),
        other => panic!("a stale write must fail, got {other:?}"),
    }
}

#[ordinance::test]
async fn each_test_starts_from_the_migrations_alone(db: &ordinance::testing::TestDatabase) {
    // The fixtures of the other tests never reach this database.
    let conn = db.connect_as_app().await.unwrap();
    let repo = Repo::new(&conn);
    assert_eq!(repo.count::<User>().await.unwrap(), 0);
    assert_eq!(repo.count::<Post>().await.unwrap(), 0);
    // The template was migrated through the runner, so nothing is pending
    // (the owner's to know: the application role cannot read the runner's
    // bookkeeping).
    let owner = db.connect().await.unwrap();
    let migrations =
        ordinance::migrate::Migrations::load(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap();
    assert!(migrations.pending(&owner).await.unwrap().is_empty());
}

#[ordinance::test]
async fn a_soft_deleted_post_leaves_the_pages(
    pool: Pool,
    #[fixture(ada())] author: User,
    #[fixture(drafts_by(&author, 5))] drafts: Vec<Post>,
) {
    assert_eq!(drafts.len(), 5);
    assert!(drafts.iter().all(|p| p.author_id == author.id));
    let conn = pool.get().await.unwrap();
    let repo = Repo::new(&*conn);
    repo.soft_delete(&drafts[0]).await.unwrap();
    let pager = Pager::<Post>::new()
        .unwrap()
        .size(10)
        .unwrap()
        .filter(Expr::col(PostColumn::AuthorId).eq(author.id));
    let page = repo.first_page(&pager).await.unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(page.items.iter().all(|p| p.id != drafts[0].id));
}

#[ordinance::test]
async fn a_tag_name_is_unique_among_live_tags(
    db: &TestDatabase,
    #[fixture(NewTag { name: "engines".into() })] engines: Tag,
) {
    let conn = db.connect().await.unwrap();
    let repo = Repo::new(&conn);
    let again = repo
        .insert(&NewTag {
            name: "engines".into(),
        })
        .await;
    assert!(
        matches!(again, Err(Error::UniqueViolation { .. })),
        "{again:?}"
    );
    repo.soft_delete(&engines).await.unwrap();
    repo.insert(&NewTag {
        name: "engines".into(),
    })
    .await
    .expect("a soft-deleted tag frees its name");
}

#[ordinance::test]
#[should_panic(expected = "fixture `post` could not be inserted")]
async fn a_fixture_that_breaks_a_rule_fails_the_test_by_name(
    _conn: Connection,
    #[fixture(ada())] author: User,
    #[fixture(draft_by(&author, ""))] post: Post,
) {
    // An empty title breaks `min_len = 1`: the body never runs.
    let _ = post;
}
