//! Tables in PostgreSQL schemas other than `public`
//! (`#[entity(schema = "auth")]`) on a real server: DDL, every statement
//! path, foreign keys across schemas, relation loads and joins, a table of
//! the same name in two schemas, migrations and the drift check.

use ordinance::batch::{copy_in, insert_many};
use ordinance::migrate::{check_drift, generate, Catalog, Drift, Migrations, Permissions};
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::relation::join_parent;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

/// Accounts people sign in with.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(schema = "auth", table = "users", keyset(email, id))]
pub struct AuthUser {
    pub id: Uuid,
    #[column(max_len = 120, unique)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Sessions, in the same schema as their users.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(schema = "auth")]
pub struct Session {
    pub id: Uuid,
    #[column(references = AuthUser, on_delete = "cascade")]
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Public profiles: a table named like the one in `auth`, in `public`.
#[derive(Entity, Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    #[column(references = AuthUser)]
    pub account_id: Uuid,
    #[column(max_len = 80)]
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Daily figures, in a third schema, referencing `public`.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(schema = "analytics")]
pub struct Visit {
    pub id: Uuid,
    #[column(references = User)]
    pub user_id: Uuid,
    pub seconds: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn schemas() -> [&'static ordinance::TableSchema; 4] {
    [
        Visit::SCHEMA,
        User::SCHEMA,
        Session::SCHEMA,
        AuthUser::SCHEMA,
    ]
}

#[test]
fn the_ddl_creates_the_schemas_and_qualifies_every_table() {
    let ddl = ordinance::ddl::SchemaDdl::new(&schemas()).expect("ddl");
    let up = ddl.up();
    assert!(up.starts_with(
        "CREATE SCHEMA IF NOT EXISTS \"analytics\";\n\nCREATE SCHEMA IF NOT EXISTS \"auth\";\n\nCREATE TABLE \"auth\".\"users\" ("
    ), "{up}");
    assert!(up.contains(
        "CONSTRAINT \"sessions_user_id_fkey\" FOREIGN KEY (\"user_id\") REFERENCES \"auth\".\"users\" (\"id\") ON DELETE CASCADE"
    ));
    assert!(up.contains(
        "CONSTRAINT \"visits_user_id_fkey\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE RESTRICT"
    ));
    assert!(up.contains(
        "CREATE UNIQUE INDEX \"idx_users_email_unique\" ON \"auth\".\"users\" (\"email\") WHERE \"deleted_at\" IS NULL;"
    ));
    assert!(up.contains("COMMENT ON TABLE \"auth\".\"users\" IS 'Accounts people sign in with.';"));
    assert_eq!(
        ddl.down(),
        "DROP TABLE \"auth\".\"sessions\";\nDROP TABLE \"analytics\".\"visits\";\nDROP TABLE \"users\";\nDROP TABLE \"auth\".\"users\";\n"
    );
}

#[tokio::test]
async fn every_statement_path_reaches_the_right_schema() {
    let ddl = ordinance::ddl::SchemaDdl::new(&schemas()).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let mut client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);

    let ada = repo
        .insert(&NewAuthUser {
            email: "ada@example.com".into(),
        })
        .await
        .expect("insert into auth.users");
    let profile = repo
        .insert(&NewUser {
            account_id: ada.id,
            display_name: "Ada".into(),
        })
        .await
        .expect("insert into public.users");
    // The two `users` tables are two tables.
    let in_auth: i64 = client
        .query_one("SELECT count(*) FROM auth.users", &[])
        .await
        .expect("count")
        .get(0);
    let in_public: i64 = client
        .query_one("SELECT count(*) FROM public.users", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!((in_auth, in_public), (1, 1));
    assert_eq!(repo.get::<AuthUser>(ada.id).await.expect("get"), ada);
    assert_eq!(repo.get::<User>(profile.id).await.expect("get"), profile);
    assert!(repo.find::<User>(ada.id).await.expect("find").is_none());

    let mut renamed = ada.clone();
    renamed.email = "ada@example.org".into();
    let renamed = repo.update(&renamed).await.expect("update");
    assert_eq!(renamed.version, 2);
    let sessions = insert_many(
        &mut client,
        &[
            NewSession { user_id: ada.id },
            NewSession { user_id: ada.id },
        ],
    )
    .await
    .expect("batch into auth.sessions");
    assert_eq!(sessions.len(), 2);
    let copied = copy_in(&client, &[NewSession { user_id: ada.id }])
        .await
        .expect("copy into auth.sessions");
    assert_eq!(copied, 1);
    let repo = Repo::new(&client);
    assert_eq!(repo.count::<Session>().await.expect("count"), 3);
    let listed: Vec<Session> = repo
        .list(&ordinance::query::select::<Session>(
            ordinance::query::Visibility::Live,
        ))
        .await
        .expect("list");
    assert_eq!(listed.len(), 3);

    // Relations across schemas: loads and joins.
    let owners = repo
        .parents(&sessions, Session::USER)
        .await
        .expect("parents in auth");
    assert_eq!(owners.get(ada.id).map(|u| &u.email), Some(&renamed.email));
    let profiles = repo
        .children(std::slice::from_ref(&renamed), User::ACCOUNT)
        .await
        .expect("children in public");
    assert_eq!(profiles.get(ada.id).len(), 1);
    // Both tables are named `users`: the joined side is aliased JOINED.
    let joined = repo
        .list_joined(&join_parent(User::ACCOUNT))
        .await
        .expect("join public.users with auth.users");
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].1.id, ada.id);

    // Pages over a keyset in another schema.
    for i in 0..5 {
        repo.insert(&NewAuthUser {
            email: format!("user{i}@example.com"),
        })
        .await
        .expect("more users");
    }
    let pager = Pager::<AuthUser>::new()
        .expect("pager")
        .size(4)
        .expect("size");
    let first = repo.first_page(&pager).await.expect("page");
    assert_eq!(first.items.len(), 4);
    let cursor = first.next.expect("a next page");
    let second = repo.page_at(&pager, &cursor).await.expect("next page");
    assert_eq!(second.items.len(), 2);

    // Soft delete and purge.
    let gone = repo.soft_delete(&sessions[0]).await.expect("soft delete");
    assert!(gone.deleted_at.is_some());
    assert!(repo.purge::<Session>(gone.id).await.expect("purge"));

    // Errors name the table the server names.
    let err = repo
        .insert(&NewAuthUser {
            email: "user0@example.com".into(),
        })
        .await
        .expect_err("duplicate email");
    assert!(err.to_string().contains("idx_users_email_unique"), "{err}");
}

#[tokio::test]
async fn migrations_create_the_schemas_and_the_drift_check_reads_them() {
    let dir = std::env::temp_dir().join(format!("ordinance-schemas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The first migration: `public` only.
    generate(
        &[AuthUser::SCHEMA, Session::SCHEMA],
        &dir,
        "auth",
        Permissions::default(),
    )
    .await
    .expect("first");
    // The next one adds tables in `public` and a new schema.
    let written = generate(&schemas(), &dir, "profiles", Permissions::default())
        .await
        .expect("second");
    let up = std::fs::read_to_string(&written[0]).expect("read");
    assert!(
        up.contains("CREATE SCHEMA IF NOT EXISTS \"analytics\";"),
        "{up}"
    );
    assert!(
        up.contains("CREATE TABLE \"analytics\".\"visits\" ("),
        "{up}"
    );
    assert!(
        up.find("CREATE TABLE \"users\"") < up.find("CREATE TABLE \"analytics\".\"visits\""),
        "referenced tables first:\n{up}"
    );
    assert_eq!(
        check_drift(&schemas(), &dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );

    let db = TestDatabase::create().await.expect("db");
    let mut client = db.connect().await.expect("connect");
    Migrations::load(&dir)
        .expect("load")
        .contract(&mut client)
        .await
        .expect("apply");
    let catalog = Catalog::read(&client).await.expect("catalog");
    let names: Vec<&str> = catalog.tables.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["analytics.visits", "auth.sessions", "auth.users", "users"]
    );

    // A new column on a table in `auth` is an ALTER of the qualified table.
    let steps = ordinance::migrate::pending_steps(
        &[
            Visit::SCHEMA,
            User::SCHEMA,
            SessionV2::SCHEMA,
            AuthUser::SCHEMA,
        ],
        &dir,
        Permissions::default(),
    )
    .await
    .expect("diff");
    assert_eq!(steps.len(), 3, "{steps:#?}");
    assert_eq!(
        steps[0].up,
        ["ALTER TABLE \"auth\".\"sessions\" ADD COLUMN \"user_agent\" TEXT DEFAULT 'unknown' NOT NULL"]
    );
    assert_eq!(
        steps[1].up,
        [
            "ALTER TABLE \"auth\".\"sessions\" ADD CONSTRAINT \"sessions_user_agent_max_length\" CHECK (char_length(\"user_agent\") <= 200) NOT VALID"
        ]
    );
    assert_eq!(
        steps[2].up,
        ["ALTER TABLE \"auth\".\"sessions\" VALIDATE CONSTRAINT \"sessions_user_agent_max_length\""]
    );
    ordinance_tests::discard_migrations(&dir);
}

/// Sessions, in the same schema as their users.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(schema = "auth", table = "sessions")]
pub struct SessionV2 {
    pub id: Uuid,
    #[column(references = AuthUser, on_delete = "cascade")]
    pub user_id: Uuid,
    #[column(max_len = 200, default = "unknown")]
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}
