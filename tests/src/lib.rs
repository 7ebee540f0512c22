//! Shared fixtures of the integration tests: a realistic multi-entity schema
//! exercising every column type, attribute and waiver.

pub mod bouncer;
pub mod recording;
pub mod spans;

use ordinance::prelude::*;
use ordinance::{Json, TableSchema};

/// Role of a member inside an organization.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    /// Full control.
    Owner,
    /// Day-to-day administration.
    Admin,
    /// Ordinary member.
    Member,
}

/// Where a task stands.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Finished.
    Done,
}

/// A customer account; everything else hangs off it.
#[derive(Entity, Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: Uuid,
    /// Display name, unique among live organizations.
    #[column(min_len = 1, max_len = 120, unique)]
    pub name: String,
    /// Free-form settings.
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// People who can sign in.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(keyset(created_at desc, id desc))]
pub struct User {
    pub id: Uuid,
    #[column(references = Organization, on_delete = "cascade")]
    pub organization_id: Uuid,
    #[column(max_len = 320, unique)]
    pub email: String,
    pub display_name: Option<String>,
    pub role: MemberRole,
    pub is_admin: bool,
    pub avatar: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A named set of users; `group` is a reserved word in SQL.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(unique(organization_id, name))]
pub struct Group {
    pub id: Uuid,
    #[column(references = Organization)]
    pub organization_id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A unit of work.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(
    keyset(status asc, created_at desc),
    index(organization_id, due_on),
)]
pub struct Task {
    pub id: Uuid,
    #[column(references = Organization, on_delete = "cascade")]
    pub organization_id: Uuid,
    /// Who does it; cleared when the user is purged.
    #[column(references = User, on_delete = "set null")]
    pub assignee_id: Option<Uuid>,
    /// The task this one was split from.
    #[column(references = Task)]
    pub parent_id: Option<Uuid>,
    #[column(min_len = 1, max_len = 200)]
    pub title: String,
    pub status: TaskStatus,
    /// Position in the board column; `order` is a reserved word.
    #[column(min = 0)]
    pub order: i32,
    #[column(min = 1, max = 5)]
    pub priority: i16,
    pub estimate_minutes: Option<i64>,
    pub labels: Vec<String>,
    pub due_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Money owed by an organization.
#[derive(Entity, Debug, Clone, PartialEq)]
pub struct Invoice {
    pub id: Uuid,
    #[column(references = Organization)]
    pub organization_id: Uuid,
    #[column(precision = 12, scale = 2, min = 0)]
    pub amount: Decimal,
    /// Exchange rate at issue time, exact.
    pub fx_rate: Option<Decimal>,
    #[column(max_len = 3, min_len = 3)]
    pub currency: String,
    pub has_been_paid: bool,
    /// Line items as sent to the payment provider.
    pub lines: Json<serde_json::Value>,
    /// Reference in the external billing system.
    #[column(exempt(foreign_key = "lives in the billing provider, not in this database"))]
    pub billing_account_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Who did what, when. Append-only.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(
    exempt(
        soft_delete = "append-only ledger: rows are never removed",
        version = "rows are never updated"
    ),
    index(action, created_at desc)
)]
pub struct AuditEvent {
    pub id: Uuid,
    #[column(references = User)]
    pub actor_id: Uuid,
    #[column(max_len = 64)]
    pub action: String,
    /// Sensor-style measurement attached to some events.
    #[column(exempt(float = "latency samples: approximate by nature"))]
    pub latency_ms: Option<f64>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Many-to-many link of tasks and groups.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(unique(task_id, group_id, name = "idx_task_groups_pair_unique"))]
pub struct TaskGroup {
    pub id: Uuid,
    #[column(references = Task, on_delete = "cascade")]
    pub task_id: Uuid,
    #[column(references = Group, on_delete = "cascade")]
    pub group_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Every fixture entity, deliberately not in dependency order.
pub fn all_schemas() -> Vec<&'static TableSchema> {
    use ordinance::Entity;
    vec![
        TaskGroup::SCHEMA,
        AuditEvent::SCHEMA,
        Task::SCHEMA,
        Invoice::SCHEMA,
        Group::SCHEMA,
        User::SCHEMA,
        Organization::SCHEMA,
    ]
}

/// A database holding the fixture schema, cloned from a per-process template.
pub async fn fixture_database() -> ordinance::testing::TestDatabase {
    let ddl = ordinance::ddl::SchemaDdl::new(&all_schemas()).expect("fixture schema orders");
    ordinance::testing::TestDatabase::with_schema(&ddl.up())
        .await
        .expect("fixture database")
}

/// An organization to insert, with empty settings.
pub fn new_organization(name: &str) -> NewOrganization {
    NewOrganization {
        name: name.into(),
        settings: serde_json::json!({}),
    }
}

/// An ordinary member of an organization.
pub fn new_user(organization_id: Uuid, email: &str) -> NewUser {
    NewUser {
        organization_id,
        email: email.into(),
        display_name: None,
        role: MemberRole::Member,
        is_admin: false,
        avatar: None,
    }
}

/// An unassigned to-do task of an organization; tests change the fields
/// they care about with struct update syntax.
pub fn new_task(organization_id: Uuid, title: &str) -> NewTask {
    NewTask {
        organization_id,
        assignee_id: None,
        parent_id: None,
        title: title.into(),
        status: TaskStatus::Todo,
        order: 0,
        priority: 1,
        estimate_minutes: None,
        labels: vec![],
        due_on: None,
    }
}

/// Values that would break a statement if they were ever spliced into its
/// text: quotes, comments, statement separators, placeholders, dollar
/// quoting, non-ASCII, and 1 MB.
pub fn sql_payloads() -> Vec<String> {
    vec![
        "'; DROP TABLE organizations; --".to_owned(),
        "Robert'); DELETE FROM users WHERE ('1'='1".to_owned(),
        "\"quoted\" \\ backslash $1 $$ dollar $$".to_owned(),
        "-- comment\n; /* block */".to_owned(),
        "ünïcødé ✓ 日本語 🐘".to_owned(),
        "x".repeat(1 << 20),
    ]
}

/// How many tables the `public` schema holds: the fixture schema has 7, so a
/// payload that dropped one would show.
pub async fn public_tables(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .expect("tables")
        .get(0)
}

/// Removes a folder of generated migrations, unless `KEEP_MIGRATIONS` is
/// set (to lint them with `.ci/lint-migrations`).
pub fn discard_migrations(dir: &std::path::Path) {
    if std::env::var_os("KEEP_MIGRATIONS").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Generates the first migration of `schemas` (named after `label`) into a
/// fresh [`Folder`], applies it in full, expand and contract, to a new
/// database, asserts the drift check then finds nothing, and returns the
/// database and a connection to it. The folder is discarded.
pub async fn migrated_in_sync(
    schemas: &[&'static TableSchema],
    label: &str,
) -> (
    ordinance::testing::TestDatabase,
    ordinance::exec::Connection,
) {
    use ordinance::migrate::{check_drift, generate, Drift, Migrations, Permissions};
    let dir = Folder::new();
    generate(schemas, &dir, label, Permissions::default())
        .await
        .expect("generate");
    let db = ordinance::testing::TestDatabase::create()
        .await
        .expect("db");
    let mut conn = db.connect().await.expect("connect");
    Migrations::load(&dir)
        .expect("load")
        .contract(&mut conn)
        .await
        .expect("applied");
    assert_eq!(
        check_drift(schemas, &dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );
    (db, conn)
}

/// Login roles of `db`'s own, neither superusers nor owners of anything:
/// the kit's application role (`TestDatabase::app_role`, with the
/// generated grants) and, when `read_only`, `{db}_reader` holding exactly
/// the generated read-only grants on `schemas` (`ordinance::ddl::grants`);
/// their names.
pub async fn least_privilege_roles(
    db: &ordinance::testing::TestDatabase,
    schemas: &[&'static TableSchema],
    read_only: bool,
) -> (String, Option<String>) {
    use ordinance::ddl::{grants, Roles};
    let app = db.app_role().await.expect("application role").to_owned();
    let Some(reader) = read_only.then(|| format!("{}_reader", db.name())) else {
        return (app, None);
    };
    let owner = db.connect().await.expect("owner");
    owner
        .batch_execute(&format!(
            "CREATE ROLE \"{reader}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
        ))
        .await
        .expect("role");
    let roles = Roles {
        app: &app,
        read_only: Some(&reader),
    };
    for grant in grants(schemas, &roles) {
        owner.batch_execute(&grant).await.expect(&grant);
    }
    (app, Some(reader))
}

/// A connection to `db` as its application role
/// (`TestDatabase::connect_as_app`). The repository tests run through it,
/// so every statement they cover is one an application role may run; the
/// role is checked to be what it says.
pub async fn application_connection(
    db: &ordinance::testing::TestDatabase,
) -> ordinance::exec::Connection {
    let conn = db
        .connect_as_app()
        .await
        .expect("connect as the application role");
    let row = conn
        .query_one(
            "SELECT rolsuper, rolbypassrls, \
             (SELECT count(*) FROM pg_class WHERE relowner = r.oid) \
             FROM pg_roles r WHERE rolname = current_user",
            &[],
        )
        .await
        .expect("role");
    let (superuser, bypass, owns): (bool, bool, i64) = (row.get(0), row.get(1), row.get(2));
    assert!(
        !superuser && !bypass && owns == 0,
        "{} must be a plain application role",
        db.name()
    );
    conn
}

/// A fresh, empty migrations folder under the temporary directory, removed
/// when dropped (unless `KEEP_MIGRATIONS` is set, e.g. to lint the files).
#[derive(Debug)]
pub struct Folder(std::path::PathBuf);

impl Folder {
    /// A folder no other test of this process uses.
    pub fn new() -> Folder {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ordinance-migrations-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Folder(dir)
    }

    /// Writes `file` in the folder (created when missing).
    pub fn write(&self, file: &str, text: &str) {
        std::fs::create_dir_all(&self.0).expect("dir");
        std::fs::write(self.0.join(file), text).expect("write");
    }
}

impl Default for Folder {
    fn default() -> Self {
        Folder::new()
    }
}

impl std::ops::Deref for Folder {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Folder {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        discard_migrations(&self.0);
    }
}

/// The name the test harness knows test `name` of the module at
/// `module_path` by (`module_path!()`): its path without the test binary's
/// own name, as `--exact` wants it when a test runs its own binary again.
pub fn test_path(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{name}"),
        None => name.to_owned(),
    }
}

/// Call before a test installs its subscriber with `set_default`: keeps a
/// second dispatcher registered for the life of the process. With only
/// one registered, `tracing` takes it for the global one and works out a
/// callsite's interest from the *registering* thread's default — so a
/// callsite first reached by another test's thread (without a
/// subscriber) would be switched off for everyone.
pub fn two_dispatchers() {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    tracing::callsite::rebuild_interest_cache();
}
