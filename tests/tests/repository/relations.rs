//! Relations on a real PostgreSQL: belongs-to, has-many, has-one,
//! many-to-many, self-references and two foreign keys to one table; nesting
//! in one statement per level (counted from the kit's spans); soft-deleted
//! rows on either side; empty and 100,000-parent loads; every executor; and
//! joins decoded into tuples.

use std::sync::{Arc, Mutex};

use ordinance::batch::insert_many;
use ordinance::deps::sea_query::{Expr, ExprTrait, Order};
use ordinance::exec::Connection;
use ordinance::exec::Unnamed;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::query::Visibility;
use ordinance::relation::{join_parent, left_join_children, left_join_parent, JOINED};
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Entity, Debug, Clone, PartialEq)]
pub struct Member {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    #[column(max_len = 20)]
    pub hair_color: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// One per member: a has-one through a unique foreign key.
#[derive(Entity, Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: Uuid,
    #[column(references = Member, unique, on_delete = "cascade")]
    pub member_id: Uuid,
    #[column(max_len = 200)]
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Two foreign keys to one table: author and reviewer.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(keyset(created_at desc, id desc))]
pub struct Article {
    pub id: Uuid,
    #[column(references = Member)]
    pub author_id: Uuid,
    #[column(references = Member, on_delete = "set null")]
    pub reviewer_id: Option<Uuid>,
    #[column(max_len = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Comments, with replies to comments (a self-reference).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(keyset(position asc, id asc))]
pub struct Remark {
    pub id: Uuid,
    #[column(references = Article, on_delete = "cascade")]
    pub article_id: Uuid,
    #[column(references = Remark)]
    pub parent_id: Option<Uuid>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity, Debug, Clone, PartialEq)]
pub struct Label {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The join entity of articles and labels.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(unique(article_id, label_id))]
pub struct ArticleLabel {
    pub id: Uuid,
    #[column(references = Article, on_delete = "cascade")]
    pub article_id: Uuid,
    #[column(references = Label, on_delete = "cascade")]
    pub label_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn database() -> (TestDatabase, Connection) {
    let ddl = ordinance::ddl::SchemaDdl::new(&[
        Member::SCHEMA,
        Profile::SCHEMA,
        Article::SCHEMA,
        Remark::SCHEMA,
        Label::SCHEMA,
        ArticleLabel::SCHEMA,
    ])
    .expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let client = db
        .connect_as_app()
        .await
        .expect("connect as the application");
    (db, client)
}

fn member(name: &str, hair_color: &str) -> NewMember {
    NewMember {
        name: name.into(),
        hair_color: hair_color.into(),
    }
}

fn article(author: &Member, title: &str) -> NewArticle {
    NewArticle {
        author_id: author.id,
        reviewer_id: None,
        title: title.into(),
    }
}

fn remark(article: &Article, position: i32) -> NewRemark {
    NewRemark {
        article_id: article.id,
        parent_id: None,
        position,
    }
}

/// Counts the kit's statement spans, by operation.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

struct Operation(String);

impl tracing::field::Visit for Operation {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "operation" {
            self.0 = value.to_owned();
        }
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Statements {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "ordinance.statement" {
            let mut op = Operation(String::new());
            attrs.record(&mut op);
            self.0.lock().expect("lock").push(op.0);
        }
    }
}

impl Statements {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

fn count_statements() -> (Statements, tracing::subscriber::DefaultGuard) {
    let statements = Statements::default();
    ordinance_tests::two_dispatchers();
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(statements.clone()));
    (statements, guard)
}

#[tokio::test]
async fn nested_loads_take_one_statement_per_level() {
    let (_db, mut client) = database().await;
    let members = insert_many(
        &mut client,
        &[
            member("Ada", "black"),
            member("Bo", "red"),
            member("Cy", "black"),
        ],
    )
    .await
    .expect("members");
    let mut articles = Vec::new();
    for (i, m) in members.iter().enumerate().take(2) {
        for n in 0..3 {
            articles.push(article(m, &format!("{} #{n}", m.name)));
        }
        let _ = i;
    }
    let articles = insert_many(&mut client, &articles).await.expect("articles");
    let remarks: Vec<NewRemark> = articles
        .iter()
        .flat_map(|a| (0..4).rev().map(move |p| remark(a, p)))
        .collect();
    insert_many(&mut client, &remarks).await.expect("remarks");

    let (statements, _guard) = count_statements();
    let repo = Repo::new(&client);
    let users = repo
        .list::<Member>(
            &ordinance::query::live::<Member>()
                .order_by(MemberColumn::Name, Order::Asc)
                .to_owned(),
        )
        .await
        .expect("users");
    let mut by_author = repo
        .children(&users, Article::AUTHOR)
        .await
        .expect("articles");
    let mut by_article = repo
        .children(by_author.all(), Remark::ARTICLE)
        .await
        .expect("remarks");
    type Tree = Vec<(Member, Vec<(Article, Vec<Remark>)>)>;
    let tree: Tree = {
        let mut tree = Vec::new();
        for user in users {
            let articles = by_author
                .take(user.id)
                .into_iter()
                .map(|a| {
                    let remarks = by_article.take(a.id);
                    (a, remarks)
                })
                .collect();
            tree.push((user, articles));
        }
        tree
    };
    assert_eq!(
        statements.take(),
        ["list", "load_children", "load_children"],
        "one statement per level"
    );
    assert_eq!(
        tree.iter()
            .map(|(u, a)| (u.name.as_str(), a.len()))
            .collect::<Vec<_>>(),
        [("Ada", 3), ("Bo", 3), ("Cy", 0)]
    );
    for (user, articles) in &tree {
        // Children come in the child's first keyset order: newest first.
        let times: Vec<_> = articles.iter().map(|(a, _)| (a.created_at, a.id)).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(times, sorted);
        for (a, remarks) in articles {
            assert_eq!(a.author_id, user.id);
            assert_eq!(
                remarks.iter().map(|r| r.position).collect::<Vec<_>>(),
                [0, 1, 2, 3],
                "ordered by (position asc, id asc)"
            );
            assert!(remarks.iter().all(|r| r.article_id == a.id));
        }
    }

    // The same shape through attach_with, and with_children / with_parent.
    let users = repo
        .list::<Member>(&ordinance::query::live::<Member>())
        .await
        .expect("users");
    let posts = repo
        .children(&users, Article::AUTHOR)
        .await
        .expect("articles");
    let mut remarks = repo
        .children(posts.all(), Remark::ARTICLE)
        .await
        .expect("remarks");
    let tree = posts.attach_with(users, |a| {
        let r = remarks.take(a.id);
        (a, r)
    });
    assert_eq!(tree.iter().map(|(_, a)| a.len()).sum::<usize>(), 6);
    statements.take();
    let with_author = repo
        .with_parent(articles.clone(), Article::AUTHOR)
        .await
        .expect("authors");
    assert!(with_author
        .iter()
        .all(|(a, m)| m.as_ref().map(|m| m.id) == Some(a.author_id)));
    // Empty input: nothing runs.
    let none = repo
        .with_children(Vec::<Member>::new(), Article::AUTHOR)
        .await
        .expect("empty");
    assert!(none.is_empty());
    let none = repo
        .with_parent(Vec::<Article>::new(), Article::AUTHOR)
        .await
        .expect("empty");
    assert!(none.is_empty());
    assert_eq!(
        statements.take(),
        ["load_parents"],
        "an empty load runs nothing"
    );
}

#[tokio::test]
async fn has_one_many_to_many_self_references_and_two_keys_to_one_table() {
    let (_db, mut client) = database().await;
    let repo = Repo::new(&client);
    let ada = repo.insert(&member("Ada", "black")).await.expect("ada");
    let bo = repo.insert(&member("Bo", "red")).await.expect("bo");
    repo.insert(&NewProfile {
        member_id: ada.id,
        bio: "mathematician".into(),
    })
    .await
    .expect("profile");

    // Has-one: each member with at most one profile.
    let with_profile = repo
        .with_child(vec![ada.clone(), bo.clone()], Profile::MEMBER)
        .await
        .expect("profiles");
    assert_eq!(
        with_profile
            .iter()
            .map(|(m, p)| (m.name.as_str(), p.as_ref().map(|p| p.bio.as_str())))
            .collect::<Vec<_>>(),
        [("Ada", Some("mathematician")), ("Bo", None)]
    );

    // Two foreign keys to members: each is its own relation.
    let reviewed = repo
        .insert(&NewArticle {
            reviewer_id: Some(bo.id),
            ..article(&ada, "reviewed")
        })
        .await
        .expect("article");
    let unreviewed = repo
        .insert(&article(&bo, "unreviewed"))
        .await
        .expect("article");
    let authored = repo
        .with_children(vec![ada.clone(), bo.clone()], Article::AUTHOR)
        .await
        .expect("authored");
    let reviews = repo
        .with_children(vec![ada.clone(), bo.clone()], Article::REVIEWER)
        .await
        .expect("reviewed");
    assert_eq!(authored[0].1, std::slice::from_ref(&reviewed));
    assert_eq!(authored[1].1, std::slice::from_ref(&unreviewed));
    assert!(reviews[0].1.is_empty());
    assert_eq!(reviews[1].1, std::slice::from_ref(&reviewed));
    let reviewers = repo
        .with_parent(
            vec![reviewed.clone(), unreviewed.clone()],
            Article::REVIEWER,
        )
        .await
        .expect("reviewers");
    assert_eq!(reviewers[0].1.as_ref().map(|m| m.id), Some(bo.id));
    assert_eq!(reviewers[1].1, None, "a NULL foreign key has no parent");

    // A self-reference: replies to remarks.
    let root = repo.insert(&remark(&reviewed, 0)).await.expect("root");
    let reply = repo
        .insert(&NewRemark {
            parent_id: Some(root.id),
            ..remark(&reviewed, 1)
        })
        .await
        .expect("reply");
    let threads = repo
        .with_children(vec![root.clone(), reply.clone()], Remark::PARENT)
        .await
        .expect("replies");
    assert_eq!(threads[0].1, std::slice::from_ref(&reply));
    assert!(threads[1].1.is_empty());

    // Many-to-many through the join entity.
    let labels = insert_many(
        &mut client,
        &["rust", "sql", "old"].map(|n| NewLabel { name: n.into() }),
    )
    .await
    .expect("labels");
    let links: Vec<NewArticleLabel> = [(0, 0), (0, 1), (1, 1), (1, 2)]
        .iter()
        .map(|&(a, l)| NewArticleLabel {
            article_id: [&reviewed, &unreviewed][a].id,
            label_id: labels[l].id,
        })
        .collect();
    let links = insert_many(&mut client, &links).await.expect("links");
    let repo = Repo::new(&client);
    let tagged = repo
        .with_related(
            vec![reviewed.clone(), unreviewed.clone()],
            ArticleLabel::ARTICLE,
            ArticleLabel::LABEL,
        )
        .await
        .expect("labels");
    let names = |list: &[Label]| {
        let mut n: Vec<String> = list.iter().map(|l| l.name.clone()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&tagged[0].1), ["rust", "sql"]);
    assert_eq!(names(&tagged[1].1), ["old", "sql"]);
    // And the other way: the articles of each label.
    let by_label = repo
        .with_related(labels.clone(), ArticleLabel::LABEL, ArticleLabel::ARTICLE)
        .await
        .expect("articles");
    assert_eq!(by_label[1].1.len(), 2, "sql labels both articles");

    // Soft deletes on either side of the link, and of the link itself.
    repo.soft_delete(&links[0]).await.expect("unlink");
    let old = labels.iter().find(|l| l.name == "old").expect("old");
    repo.soft_delete(old).await.expect("delete label");
    let tagged = repo
        .with_related(
            vec![reviewed.clone(), unreviewed.clone()],
            ArticleLabel::ARTICLE,
            ArticleLabel::LABEL,
        )
        .await
        .expect("labels");
    assert_eq!(
        names(&tagged[0].1),
        ["sql"],
        "a soft-deleted link links nothing"
    );
    assert_eq!(
        names(&tagged[1].1),
        ["sql"],
        "a soft-deleted label is not loaded"
    );
    let with_deleted = repo
        .with_related(
            vec![unreviewed.clone()],
            ArticleLabel::ARTICLE,
            ArticleLabel::LABEL.visibility(Visibility::WithDeleted),
        )
        .await
        .expect("labels");
    assert_eq!(
        names(&with_deleted[0].1),
        ["old", "sql"],
        "asked for by name"
    );
}

/// A parent listed twice gets its children both times, in every load and
/// attach form: a page that repeats a row, or rows merged from two lists.
#[tokio::test]
async fn a_parent_listed_twice_gets_its_children_each_time() {
    let (_db, client) = database().await;
    let repo = Repo::new(&client);
    let ada = repo.insert(&member("Ada", "black")).await.expect("ada");
    let bo = repo.insert(&member("Bo", "red")).await.expect("bo");
    let profile = repo
        .insert(&NewProfile {
            member_id: ada.id,
            bio: "mathematician".into(),
        })
        .await
        .expect("profile");
    let essay = repo.insert(&article(&ada, "essay")).await.expect("essay");
    let label = repo
        .insert(&NewLabel {
            name: "math".into(),
        })
        .await
        .expect("label");
    repo.insert(&NewArticleLabel {
        article_id: essay.id,
        label_id: label.id,
    })
    .await
    .expect("link");
    let twice = vec![ada.clone(), bo.clone(), ada.clone()];
    let titles = |rows: &[(Member, Vec<Article>)]| -> Vec<(String, Vec<String>)> {
        rows.iter()
            .map(|(m, a)| (m.name.clone(), a.iter().map(|a| a.title.clone()).collect()))
            .collect()
    };
    let expected = vec![
        ("Ada".to_owned(), vec!["essay".to_owned()]),
        ("Bo".to_owned(), vec![]),
        ("Ada".to_owned(), vec!["essay".to_owned()]),
    ];

    let with = repo
        .with_children(twice.clone(), Article::AUTHOR)
        .await
        .expect("with_children");
    assert_eq!(titles(&with), expected);

    let attached = repo
        .children(&twice, Article::AUTHOR)
        .await
        .expect("children")
        .attach(twice.clone());
    assert_eq!(titles(&attached), expected);

    let mapped = repo
        .children(&twice, Article::AUTHOR)
        .await
        .expect("children")
        .attach_with(twice.clone(), |a| a.title);
    assert_eq!(
        mapped
            .into_iter()
            .map(|(m, t)| (m.name, t))
            .collect::<Vec<_>>(),
        expected
    );

    // Two levels: the closure takes each article's remarks once, and the
    // repeated member still gets them.
    repo.insert(&remark(&essay, 1)).await.expect("remark");
    let articles = repo
        .children(&twice, Article::AUTHOR)
        .await
        .expect("articles");
    let mut remarks = repo
        .children(articles.all(), Remark::ARTICLE)
        .await
        .expect("remarks");
    let tree = articles.attach_with(twice.clone(), |a| {
        let of_article = remarks.take(a.id);
        (a, of_article)
    });
    let counts: Vec<Vec<usize>> = tree
        .iter()
        .map(|(_, articles)| articles.iter().map(|(_, r)| r.len()).collect())
        .collect();
    assert_eq!(counts, [vec![1], vec![], vec![1]]);

    let one = repo
        .with_child(twice.clone(), Profile::MEMBER)
        .await
        .expect("with_child");
    assert_eq!(
        one.iter().map(|(_, p)| p.as_ref()).collect::<Vec<_>>(),
        [Some(&profile), None, Some(&profile)]
    );

    let articles = vec![essay.clone(), essay.clone()];
    let labelled = repo
        .with_related(articles, ArticleLabel::ARTICLE, ArticleLabel::LABEL)
        .await
        .expect("with_related");
    assert_eq!(
        labelled.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>(),
        [vec![label.clone()], vec![label.clone()]]
    );
}

#[tokio::test]
async fn soft_deleted_rows_are_left_out_on_both_sides_unless_asked_for() {
    let (_db, client) = database().await;
    let repo = Repo::new(&client);
    let ada = repo.insert(&member("Ada", "black")).await.expect("ada");
    let kept = repo.insert(&article(&ada, "kept")).await.expect("kept");
    let gone = repo.insert(&article(&ada, "gone")).await.expect("gone");
    let gone = repo.soft_delete(&gone).await.expect("soft delete");

    let loaded = repo
        .with_children(vec![ada.clone()], Article::AUTHOR)
        .await
        .expect("live");
    assert_eq!(loaded[0].1, std::slice::from_ref(&kept));
    let everything = repo
        .with_children(
            vec![ada.clone()],
            Article::AUTHOR.visibility(Visibility::WithDeleted),
        )
        .await
        .expect("with deleted");
    assert_eq!(everything[0].1.len(), 2);
    let only = repo
        .with_children(
            vec![ada.clone()],
            Article::AUTHOR.visibility(Visibility::OnlyDeleted),
        )
        .await
        .expect("only deleted");
    assert_eq!(only[0].1, std::slice::from_ref(&gone));

    // A soft-deleted parent is not loaded for its children.
    let ada = repo.soft_delete(&ada).await.expect("delete author");
    let authors = repo
        .with_parent(vec![kept.clone()], Article::AUTHOR)
        .await
        .expect("authors");
    assert_eq!(authors[0].1, None);
    let authors = repo
        .with_parent(
            vec![kept.clone()],
            Article::AUTHOR.visibility(Visibility::WithDeleted),
        )
        .await
        .expect("authors");
    assert_eq!(authors[0].1.as_ref().map(|a| a.id), Some(ada.id));
}

#[tokio::test]
async fn loads_run_on_every_executor_and_chunk_100_000_parents() {
    let (db, mut client) = database().await;
    let parents: Vec<NewMember> = (0..100_000)
        .map(|i| member(&format!("m{i}"), if i % 2 == 0 { "black" } else { "red" }))
        .collect();
    let members = insert_many(&mut client, &parents).await.expect("members");
    // Every 1,000th member wrote one article.
    let articles: Vec<NewArticle> = members
        .iter()
        .step_by(1000)
        .map(|m| article(m, &m.name))
        .collect();
    insert_many(&mut client, &articles).await.expect("articles");

    let (statements, _guard) = count_statements();
    let loaded = Repo::new(&client)
        .with_children(members.clone(), Article::AUTHOR)
        .await
        .expect("load");
    assert_eq!(
        statements.take().len(),
        100_000usize.div_ceil(ordinance::relation::IDS_PER_STATEMENT),
        "chunks of IDS_PER_STATEMENT ids"
    );
    assert_eq!(loaded.len(), 100_000);
    for (i, (m, a)) in loaded.iter().enumerate() {
        assert_eq!(a.len(), usize::from(i % 1000 == 0), "{}", m.name);
        assert!(a.iter().all(|a| a.title == m.name));
    }

    let sample: Vec<Member> = members.iter().step_by(1000).take(5).cloned().collect();
    let expect = |loaded: Vec<(Member, Vec<Article>)>| {
        assert_eq!(loaded.len(), 5);
        assert!(loaded
            .iter()
            .all(|(m, a)| a.len() == 1 && a[0].author_id == m.id));
    };
    // A transaction, the unnamed mode, and a pooled connection.
    let tx = client.transaction().await.expect("begin");
    expect(
        Repo::new(&tx)
            .with_children(sample.clone(), Article::AUTHOR)
            .await
            .expect("tx"),
    );
    expect(
        Repo::new(&Unnamed(&tx))
            .with_children(sample.clone(), Article::AUTHOR)
            .await
            .expect("unnamed"),
    );
    tx.commit().await.expect("commit");
    let pool = Pool::connect(db.config().clone(), PoolOptions::default())
        .await
        .expect("pool");
    let conn = pool.get().await.expect("pooled");
    expect(
        Repo::new(&**conn)
            .with_children(sample.clone(), Article::AUTHOR)
            .await
            .expect("pooled"),
    );
}

#[tokio::test]
async fn joins_keep_the_live_scope_in_the_on_clause() {
    let (_db, client) = database().await;
    let repo = Repo::new(&client);
    let ada = repo.insert(&member("Ada", "black")).await.expect("ada");
    let bo = repo.insert(&member("Bo", "black")).await.expect("bo");
    let cy = repo.insert(&member("Cy", "red")).await.expect("cy");
    let a1 = repo.insert(&article(&ada, "a1")).await.expect("a1");
    let a2 = repo.insert(&article(&ada, "a2")).await.expect("a2");
    let deleted = repo.insert(&article(&bo, "deleted")).await.expect("b1");
    repo.soft_delete(&deleted).await.expect("soft delete");
    repo.insert(&article(&cy, "c1")).await.expect("c1");

    // users LEFT JOIN posts WHERE hair_color = $1: Bo's only article is
    // soft-deleted, and Bo still comes back, with None.
    let q = left_join_children(Article::AUTHOR)
        .filter(Expr::col(MemberColumn::HairColor).eq("black"))
        .order_by(Expr::col((Member::TABLE, MemberColumn::Name)), Order::Asc)
        .order_by(
            Expr::col((Article::TABLE, ArticleColumn::Title)),
            Order::Asc,
        );
    let rows: Vec<(Member, Option<Article>)> = repo.list_joined(&q).await.expect("join");
    assert_eq!(
        rows.iter()
            .map(|(m, a)| (m.name.as_str(), a.as_ref().map(|a| a.title.as_str())))
            .collect::<Vec<_>>(),
        [("Ada", Some("a1")), ("Ada", Some("a2")), ("Bo", None)]
    );
    assert_eq!(rows[0].1.as_ref(), Some(&a1));
    assert_eq!(rows[1].1.as_ref(), Some(&a2));

    // Children with their parent, inner join: a soft-deleted author drops
    // their articles from the join.
    repo.soft_delete(&cy).await.expect("delete cy");
    let rows: Vec<(Article, Member)> = repo
        .list_joined(&join_parent(Article::AUTHOR))
        .await
        .expect("join");
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|(a, m)| a.author_id == m.id && m.id == ada.id));

    // A self-join: replies with their parent remark, the joined side
    // aliased.
    let root = repo.insert(&remark(&a1, 0)).await.expect("root");
    repo.insert(&NewRemark {
        parent_id: Some(root.id),
        ..remark(&a1, 1)
    })
    .await
    .expect("reply");
    let q = left_join_parent(Remark::PARENT)
        .order_by(
            Expr::col((Remark::TABLE, RemarkColumn::Position)),
            Order::Asc,
        )
        .filter(
            Expr::col((JOINED, RemarkColumn::Position))
                .is_null()
                .or(Expr::col((JOINED, RemarkColumn::Position)).eq(0)),
        )
        .limit(10);
    let rows: Vec<(Remark, Option<Remark>)> = repo.list_joined(&q).await.expect("self join");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1, None);
    assert_eq!(rows[1].1.as_ref().map(|p| p.id), Some(root.id));
}
