//! Tenants isolated by row-level security, least-privilege roles, and the
//! actor columns — run as roles that neither own the tables nor are
//! superusers (both would bypass row-level security), directly and through
//! PgBouncer in transaction pooling mode.

use std::time::Duration;

use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::ddl::SchemaDdl;
use ordinance::deps::futures_util::TryStreamExt as _;
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{Error, UniqueKey};
use ordinance_tests::bouncer::Bouncer;
use ordinance_tests::least_privilege_roles;

/// A note kept per tenant, recording who wrote it.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant, keyset(created_at desc))]
pub struct Note {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 200, unique)]
    pub title: String,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    /// Who soft-deleted the note.
    pub deleted_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A tenant's projects.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant)]
pub struct Project {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 100)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Issues of a project; an issue may be split from another one.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant)]
pub struct Issue {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(references = Project, on_delete = "cascade")]
    pub project_id: Uuid,
    #[column(references = Issue, on_delete = "set null")]
    pub parent_id: Option<Uuid>,
    #[column(max_len = 200)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Every table of these tests.
fn schemas() -> [&'static ordinance::TableSchema; 3] {
    [Note::SCHEMA, Project::SCHEMA, Issue::SCHEMA]
}

/// A database holding the tenant tables, owned by `postgres`, and two
/// roles of its own: the application's and a read-only one, with the
/// generated grants.
struct Setup {
    db: TestDatabase,
    app: String,
    reader: String,
}

async fn setup() -> Setup {
    let ddl = SchemaDdl::new(&schemas()).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let (app, reader) = least_privilege_roles(&db, &schemas(), true).await;
    Setup {
        db,
        app,
        reader: reader.expect("read-only role"),
    }
}

async fn cluster_as(config: ordinance::deps::tokio_postgres::Config, unnamed: bool) -> Cluster {
    let pool = Pool::connect(
        config,
        PoolOptions {
            max_size: 2,
            acquire_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .expect("pool");
    let options = ClusterOptions {
        unnamed_statements: unnamed,
        ..ClusterOptions::default()
    };
    Cluster::new(pool, Vec::new(), options).expect("cluster")
}

fn as_role(setup: &Setup, role: &str) -> ordinance::deps::tokio_postgres::Config {
    let mut config = setup.db.config().clone();
    config.user(role);
    config
}

fn new_note(title: &str) -> NewNote {
    NewNote {
        title: title.into(),
    }
}

#[test]
fn the_schema_isolates_tenants_and_keys_pages_by_tenant() {
    let ddl = ordinance::ddl::create_table(Note::SCHEMA);
    for statement in [
        "ALTER TABLE \"notes\" ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE \"notes\" FORCE ROW LEVEL SECURITY;",
        "CREATE POLICY \"tenant_isolation\" ON \"notes\" USING (\"tenant_id\" = NULLIF(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (\"tenant_id\" = NULLIF(current_setting('app.tenant_id', true), '')::uuid);",
        "\"tenant_id\" UUID NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid",
        "\"created_by\" UUID DEFAULT NULLIF(current_setting('app.actor_id', true), '')::uuid",
    ] {
        assert!(ddl.contains(statement), "{statement}\nnot in\n{ddl}");
    }
    // The keyset order (and the index backing it) lead with tenant_id.
    let keyset: Vec<&str> = Note::SCHEMA.keysets[0].iter().map(|c| c.name).collect();
    assert_eq!(keyset, ["tenant_id", "created_at", "id"]);
    assert!(
        ddl.contains("ON \"notes\" (\"tenant_id\" DESC, \"created_at\" DESC, \"id\" DESC)"),
        "{ddl}"
    );
    // A unique key is unique within a tenant: tenant_id leads its index,
    // and the key keeps the declared column's name.
    assert!(
        ddl.contains("ON \"notes\" (\"tenant_id\", \"title\") WHERE \"deleted_at\" IS NULL"),
        "{ddl}"
    );
    assert_eq!(NoteKey::Title.index_position(), 0);
    // The application never writes tenant_id or the actor columns.
    let business: Vec<&str> = Note::SCHEMA.business_columns().map(|c| c.name).collect();
    assert_eq!(business, ["title"]);
}

/// Every isolation property, through `cluster` (the application's role).
async fn tenants_are_isolated(setup: &Setup, app: &Cluster) {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let tenant_a = app.for_tenant(a).as_actor(alice);
    let tenant_b = app.for_tenant(b).as_actor(bob);

    let note = tenant_a.repo().insert(&new_note("a's plan")).await.unwrap();
    assert_eq!(
        note.tenant_id, a,
        "tenant_id comes from the transaction's tenant"
    );
    assert_eq!(
        (note.created_by, note.updated_by),
        (Some(alice), Some(alice))
    );
    tenant_b.repo().insert(&new_note("b's plan")).await.unwrap();

    // Unique keys hold within a tenant: b may use a's title, and learns
    // nothing of a's row; a may not use it twice.
    let b_copy = tenant_b.repo().insert(&new_note("a's plan")).await.unwrap();
    let twice = tenant_a
        .repo()
        .insert(&new_note("a's plan"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            twice,
            Error::UniqueViolation {
                column: Some("title"),
                ..
            }
        ),
        "{twice:?}"
    );
    // An upsert on the key finds the row of its own tenant only.
    let upserted = tenant_b
        .repo()
        .upsert(&new_note("a's plan"), NoteKey::Title)
        .await
        .unwrap();
    assert_eq!((upserted.id, upserted.version), (b_copy.id, 2));
    assert_eq!(tenant_a.repo().get::<Note>(note.id).await.unwrap(), note);
    tenant_b.repo().purge::<Note>(b_copy.id).await.unwrap();

    // Reads: each tenant sees its own rows only.
    let pager = Pager::<Note>::new().unwrap();
    let a_page = tenant_a.repo().first_page(&pager).await.unwrap();
    assert_eq!(a_page.items, vec![note.clone()]);
    // A stream runs in its tenant's transaction too, committed once read.
    for _ in 0..2 {
        let streamed: Vec<Note> = tenant_a
            .repo()
            .stream::<Note>(&ordinance::query::live::<Note>())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed, vec![note.clone()]);
    }
    assert_eq!(tenant_b.repo().count::<Note>().await.unwrap(), 1);
    assert_eq!(tenant_b.repo().find::<Note>(note.id).await.unwrap(), None);

    // Writes across tenants fail: the row is not there for b.
    let mut stolen = note.clone();
    stolen.title = "b was here".into();
    assert!(matches!(
        tenant_b.repo().update(&stolen).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        tenant_b.repo().soft_delete(&note).await,
        Err(Error::NotFound { .. })
    ));
    // ... and rows cannot be moved to, or written for, another tenant.
    let b_id = Uuid::now_v7();
    let write_for_a = tenant_b
        .transaction(async move |tx| {
            tx.execute(
                "INSERT INTO notes (id, tenant_id, title) VALUES ($1, $2, 'planted')",
                &[&b_id, &a],
            )
            .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(
        matches!(write_for_a, Error::PermissionDenied { .. }),
        "{write_for_a:?}"
    );
    assert!(
        write_for_a.to_string().contains("row-level security"),
        "{write_for_a}"
    );

    // The owner's update through a's handle works, and records the actor.
    let carol = Uuid::now_v7();
    let mut edited = note.clone();
    edited.title = "a's plan, revised".into();
    let edited = tenant_a
        .as_actor(carol)
        .repo()
        .update(&edited)
        .await
        .unwrap();
    assert_eq!(
        (edited.created_by, edited.updated_by),
        (Some(alice), Some(carol))
    );

    // No tenant: nothing to see, nothing may be written (fail closed).
    let nobody = app.scoped(ordinance::exec::Scope::default());
    assert_eq!(nobody.repo().count::<Note>().await.unwrap(), 0);
    assert!(nobody.repo().find::<Note>(note.id).await.unwrap().is_none());
    let refused = nobody.repo().insert(&new_note("whose?")).await.unwrap_err();
    assert!(
        matches!(refused, Error::TenantNotSet { table: "notes", .. }),
        "{refused:?}"
    );
    let refused = nobody
        .repo()
        .upsert(&new_note("whose?"), NoteKey::Title)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::TenantNotSet { table: "notes", .. }),
        "{refused:?}"
    );
    let refused = nobody
        .repo()
        .upsert_if_version(&new_note("whose?"), NoteKey::Title, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::TenantNotSet { table: "notes", .. }),
        "{refused:?}"
    );
    let refused = nobody.repo().update(&edited).await.unwrap_err();
    assert!(
        matches!(refused, Error::TenantNotSet { table: "notes", .. }),
        "{refused:?}"
    );

    // The control: the owner (a superuser here) sees every tenant's rows,
    // so "nothing" above was the policy, not an empty table.
    let owner = setup.db.connect().await.unwrap();
    assert_eq!(Repo::new(&owner).count::<Note>().await.unwrap(), 2);
}

/// Who soft-deleted a row is recorded on every soft-delete path — the
/// repository, the builder, bulk changes — and cleared by every restore,
/// as the application role, from the transaction's actor.
async fn deletions_record_their_actor(app: &Cluster) {
    use ordinance::bulk::Bulk;
    use ordinance::deps::sea_query::{Expr, ExprTrait};
    use ordinance::query;

    let tenant = Uuid::now_v7();
    let [alice, dave, erin, frank, gina] = [(); 5].map(|_| Uuid::now_v7());
    let as_actor = |actor| app.for_tenant(tenant).as_actor(actor);
    let note = as_actor(alice)
        .repo()
        .insert(&new_note("to go"))
        .await
        .unwrap();
    assert_eq!(note.deleted_by, None);

    let deleted = as_actor(dave).repo().soft_delete(&note).await.unwrap();
    assert_eq!(
        (deleted.deleted_by, deleted.updated_by),
        (Some(dave), Some(dave))
    );
    let restored = as_actor(erin).repo().restore(&deleted).await.unwrap();
    assert_eq!(
        (restored.deleted_by, restored.updated_by),
        (None, Some(erin))
    );

    // The builder, run by the caller.
    let built = query::soft_delete(&restored).unwrap();
    let rows: Vec<Note> = as_actor(frank).repo().fetch(&built).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].deleted_by, Some(frank));
    let rows: Vec<Note> = as_actor(frank)
        .repo()
        .fetch(&query::restore(&rows[0]).unwrap())
        .await
        .unwrap();
    assert_eq!(rows[0].deleted_by, None);

    // Bulk, chunk by chunk.
    for i in 0..5 {
        as_actor(alice)
            .repo()
            .insert(&new_note(&format!("bulk {i}")))
            .await
            .unwrap();
    }
    let bulk = || {
        Bulk::<Note>::new()
            .filter(Expr::col(NoteColumn::Title).like("bulk %"))
            .chunk(2)
    };
    let done = bulk().soft_delete(&as_actor(gina)).await.unwrap();
    assert_eq!(done.rows, 5);
    let owner_view = |title: &'static str| {
        let select = query::with_deleted::<Note>()
            .and_where(Expr::col(NoteColumn::Title).like(title))
            .to_owned();
        async move { as_actor(alice).repo().list::<Note>(&select).await.unwrap() }
    };
    let gone = owner_view("bulk %").await;
    assert_eq!(gone.len(), 5);
    assert!(gone
        .iter()
        .all(|n| n.deleted_by == Some(gina) && n.deleted_at.is_some()));
    bulk().restore(&as_actor(erin)).await.unwrap();
    assert!(owner_view("bulk %")
        .await
        .iter()
        .all(|n| n.deleted_by.is_none()));

    // No actor set: nobody is recorded, and nothing fails.
    let anonymous = app.for_tenant(tenant);
    let gone = anonymous
        .repo()
        .soft_delete(&as_actor(alice).repo().get::<Note>(note.id).await.unwrap())
        .await
        .unwrap();
    assert_eq!(gone.deleted_by, None);
}

/// Every batch path into a tenant table, as the application role, in the
/// tenant's transactions: the rows land in the tenant, in order, all or
/// none; with no tenant set each path is a typed refusal and writes
/// nothing.
async fn batches_stay_in_their_tenant(setup: &Setup, app: &Cluster) {
    use ordinance::batch::{copy_in, insert_many, insert_many_count, upsert_many};
    let (a, b, alice) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let tenant_a = app.for_tenant(a).as_actor(alice);
    let tenant_b = app.for_tenant(b);
    let titles = |prefix: &str, n: usize| -> Vec<NewNote> {
        (0..n).map(|i| new_note(&format!("{prefix} {i}"))).collect()
    };

    let rows = titles("batch", 2_500);
    let stored = tenant_a
        .transaction(async |tx| insert_many(tx, &rows).await)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2_500);
    assert!(stored
        .iter()
        .zip(&rows)
        .all(|(s, r)| s.title == r.title && s.tenant_id == a && s.created_by == Some(alice)));
    assert!(stored.iter().all(|s| s.version == 1));

    // Twice in one transaction, with a copy and a count, and nothing at all.
    let (more, again) = (titles("more", 300), titles("again", 200));
    let written = tenant_a
        .transaction(async |tx| {
            let first = insert_many_count(tx, &more).await?;
            let second = copy_in(tx.client(), &again).await?;
            let none = insert_many(tx, &Vec::<NewNote>::new()).await?;
            assert!(none.is_empty());
            let twice = insert_many(tx, &titles("twice", 3)).await?;
            Ok(first + second + twice.len() as u64)
        })
        .await
        .unwrap();
    assert_eq!(written, 503);

    // Upserts: the first batch's titles come back as updates of a's rows.
    let upserted = tenant_a
        .transaction(async |tx| upsert_many(tx, &rows[..10], NoteKey::Title).await)
        .await
        .unwrap();
    assert!(upserted
        .iter()
        .zip(&stored)
        .all(|(u, s)| u.id == s.id && u.version == 2));

    // All or nothing: a batch holding a title a already has lands nothing.
    let mut clash = titles("clash", 50);
    clash.push(new_note("batch 7"));
    let err = tenant_a
        .transaction(async |tx| insert_many(tx, &clash).await)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UniqueViolation {
                column: Some("title"),
                ..
            }
        ),
        "{err:?}"
    );

    // b sees none of it, and may use the same titles.
    assert_eq!(tenant_b.repo().count::<Note>().await.unwrap(), 0);
    let b_rows = tenant_b
        .transaction(async |tx| insert_many(tx, &rows[..5]).await)
        .await
        .unwrap();
    assert!(b_rows.iter().all(|n| n.tenant_id == b));
    assert_eq!(tenant_a.repo().count::<Note>().await.unwrap(), 3_003);

    // No tenant: every batch path refuses, naming the table, and writes
    // nothing.
    let nobody = app.scoped(ordinance::exec::Scope::default());
    let few = titles("whose", 3);
    let refusals = [
        nobody
            .transaction(async |tx| insert_many(tx, &few).await.map(|_| ()))
            .await,
        nobody
            .transaction(async |tx| insert_many_count(tx, &few).await.map(|_| ()))
            .await,
        nobody
            .transaction(async |tx| copy_in(tx.client(), &few).await.map(|_| ()))
            .await,
        nobody
            .transaction(async |tx| upsert_many(tx, &few, NoteKey::Title).await.map(|_| ()))
            .await,
    ];
    for refused in refusals {
        assert!(
            matches!(refused, Err(Error::TenantNotSet { table: "notes", .. })),
            "{refused:?}"
        );
    }
    // Outside a transaction no tenant can be set: refused too, and the
    // session is left clean for the next batch.
    let conn = app.primary().get().await.unwrap();
    for _ in 0..2 {
        let refused = copy_in(&conn, &few).await;
        assert!(
            matches!(refused, Err(Error::TenantNotSet { table: "notes", .. })),
            "{refused:?}"
        );
    }
    let owner = setup.db.connect().await.unwrap();
    let total: i64 = owner
        .query_one("SELECT count(*) FROM notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 3_008, "a's 3,003 and b's 5");
}

#[test]
fn foreign_keys_between_tenant_tables_carry_the_tenant() {
    let ddl = SchemaDdl::new(&schemas()).expect("ddl").up();
    for expected in [
        // The referenced key: unique over every row, for foreign keys.
        "CREATE UNIQUE INDEX \"idx_projects_tenant_id_id_unique\" ON \"projects\" (\"tenant_id\", \"id\");",
        "CONSTRAINT \"issues_project_id_fkey\" FOREIGN KEY (\"tenant_id\", \"project_id\") REFERENCES \"projects\" (\"tenant_id\", \"id\") ON DELETE CASCADE",
        // SET NULL empties the reference alone: the row keeps its tenant.
        // (A self-reference is added once the table's own key exists.)
        "ALTER TABLE \"issues\" ADD CONSTRAINT \"issues_parent_id_fkey\" FOREIGN KEY (\"tenant_id\", \"parent_id\") REFERENCES \"issues\" (\"tenant_id\", \"id\") ON DELETE SET NULL (\"parent_id\");",
    ] {
        assert!(ddl.contains(expected), "{expected}\nnot in\n{ddl}");
    }
    // The tenant key is not an upsert target.
    assert_eq!(NoteKey::Title.index_position(), 0);
    let fk = &Issue::SCHEMA.foreign_keys[0];
    assert!(fk.within_tenant);
}

/// A tenant can neither attach rows to another tenant's rows nor tell
/// whether an id exists in another tenant; deletes cascade within a tenant
/// only; joins pair rows of one tenant.
async fn foreign_keys_stay_inside_a_tenant(setup: &Setup, app: &Cluster) {
    use ordinance::relation::join_parent;
    let (a, b) = (
        app.for_tenant(Uuid::now_v7()),
        app.for_tenant(Uuid::now_v7()),
    );
    let project = |name: &str| NewProject { name: name.into() };
    let issue = |project: &Project, parent: Option<&Issue>, title: &str| NewIssue {
        project_id: project.id,
        parent_id: parent.map(|p| p.id),
        title: title.into(),
    };
    let a_project = a.repo().insert(&project("a's")).await.unwrap();
    let b_project = b.repo().insert(&project("b's")).await.unwrap();
    let a_root = a
        .repo()
        .insert(&issue(&a_project, None, "root"))
        .await
        .unwrap();
    let a_split = a
        .repo()
        .insert(&issue(&a_project, Some(&a_root), "split"))
        .await
        .unwrap();
    let b_issue = b
        .repo()
        .insert(&issue(&b_project, None, "b's"))
        .await
        .unwrap();

    // b names a's project, then an id no tenant has: the same refusal,
    // word for word, so b learns nothing of a.
    let into_a = b
        .repo()
        .insert(&issue(&a_project, None, "planted"))
        .await
        .unwrap_err();
    let nowhere = Project {
        id: Uuid::now_v7(),
        ..a_project.clone()
    };
    let into_nothing = b
        .repo()
        .insert(&issue(&nowhere, None, "planted"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            into_a,
            Error::ForeignKeyViolation {
                column: Some("project_id"),
                ..
            }
        ),
        "{into_a:?}"
    );
    assert_eq!(into_a.to_string(), into_nothing.to_string());
    let under_a = b
        .repo()
        .insert(&issue(&b_project, Some(&a_root), "under a's"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            under_a,
            Error::ForeignKeyViolation {
                column: Some("parent_id"),
                ..
            }
        ),
        "{under_a:?}"
    );
    // The database itself refuses it, whoever asks: the owner too.
    let owner = setup.db.connect().await.unwrap();
    let b_tenant = b_issue.tenant_id;
    let err = owner
        .execute(
            "INSERT INTO issues (id, tenant_id, project_id, title) VALUES ($1, $2, $3, 'x')",
            &[&Uuid::now_v7(), &b_tenant, &a_project.id],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from(err), Error::ForeignKeyViolation { .. }),
        "a cross-tenant reference is no key"
    );

    // Joins pair each issue with its own tenant's project.
    let joined: Vec<(Issue, Project)> = a
        .repo()
        .list_joined(&join_parent(Issue::PROJECT))
        .await
        .unwrap();
    assert_eq!(joined.len(), 2);
    assert!(joined
        .iter()
        .all(|(i, p)| p.id == a_project.id && i.tenant_id == p.tenant_id));

    // SET NULL empties the reference and keeps the tenant.
    assert!(a.repo().purge::<Issue>(a_root.id).await.unwrap());
    let split = a.repo().get::<Issue>(a_split.id).await.unwrap();
    assert_eq!(
        (split.parent_id, split.tenant_id),
        (None, a_split.tenant_id)
    );
    // A cascade stays in its tenant.
    assert!(a.repo().purge::<Project>(a_project.id).await.unwrap());
    let left: Vec<(Uuid, Uuid)> = owner
        .query("SELECT id, tenant_id FROM issues", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(left, vec![(b_issue.id, b_issue.tenant_id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_stay_inside_a_tenant_for_the_application_role() {
    let setup = setup().await;
    let app = cluster_as(as_role(&setup, &setup.app), false).await;
    foreign_keys_stay_inside_a_tenant(&setup, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_record_their_actor_for_the_application_role() {
    let setup = setup().await;
    let app = cluster_as(as_role(&setup, &setup.app), false).await;
    deletions_record_their_actor(&app).await;
}

#[tokio::test]
async fn deletions_record_their_actor_through_pgbouncer() {
    let setup = setup().await;
    let Some(bouncer) = Bouncer::start_for(&setup.db, 2, &[&setup.app, &setup.reader]) else {
        return;
    };
    let app = cluster_as(bouncer.config_as(&setup.db, &setup.app), true).await;
    deletions_record_their_actor(&app).await;
}

#[tokio::test]
async fn tenants_are_isolated_for_the_application_role() {
    let setup = setup().await;
    let app = cluster_as(as_role(&setup, &setup.app), false).await;
    tenants_are_isolated(&setup, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_stay_in_their_tenant_for_the_application_role() {
    let setup = setup().await;
    let app = cluster_as(as_role(&setup, &setup.app), false).await;
    batches_stay_in_their_tenant(&setup, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_stay_in_their_tenant_through_pgbouncer() {
    let setup = setup().await;
    let Some(bouncer) = Bouncer::start_for(&setup.db, 2, &[&setup.app, &setup.reader]) else {
        return;
    };
    let app = cluster_as(bouncer.config_as(&setup.db, &setup.app), true).await;
    batches_stay_in_their_tenant(&setup, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_isolated_through_pgbouncer() {
    let setup = setup().await;
    let Some(bouncer) = Bouncer::start_for(&setup.db, 2, &[&setup.app, &setup.reader]) else {
        return;
    };
    let app = cluster_as(bouncer.config_as(&setup.db, &setup.app), true).await;
    tenants_are_isolated(&setup, &app).await;
    // Two server connections behind many transactions: a tenant set in one
    // transaction never leaks into the next one on the same connection.
    let a = app.for_tenant(Uuid::now_v7());
    a.repo().insert(&new_note("scoped")).await.unwrap();
    for _ in 0..20 {
        assert_eq!(app.repo().count::<Note>().await.unwrap(), 0);
        assert_eq!(a.repo().count::<Note>().await.unwrap(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_cannot_change_the_schema() {
    let setup = setup().await;
    let app = as_role(&setup, &setup.app);
    let conn = ordinance::testing::connect(&app).await.unwrap();
    for ddl in [
        "CREATE TABLE intruders (id uuid)",
        "ALTER TABLE notes ADD COLUMN secret text",
        "DROP TABLE notes",
        "ALTER TABLE notes DISABLE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON notes",
        "TRUNCATE notes",
    ] {
        let err = conn.batch_execute(ddl).await.unwrap_err();
        let err = Error::from(err);
        assert!(
            matches!(err, Error::PermissionDenied { .. }),
            "{ddl}: {err}"
        );
    }
    // The read-only role reads and writes nothing else.
    let reader = ordinance::testing::connect(&as_role(&setup, &setup.reader))
        .await
        .unwrap();
    reader
        .batch_execute("SELECT count(*) FROM notes")
        .await
        .unwrap();
    let err = Error::from(
        reader
            .batch_execute("INSERT INTO notes (id, tenant_id, title) VALUES (gen_random_uuid(), gen_random_uuid(), 'x')")
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
}
