//! Row-level security is part of the schema the migrations keep: an entity
//! made tenant-scoped gets its policy and `ENABLE` / `FORCE ROW LEVEL
//! SECURITY` from the generator, and a database where someone turned them
//! off or changed the policy drifts — so tenant isolation cannot vanish
//! while every drift check passes.

use ordinance::ddl::SchemaDdl;
use ordinance::migrate::{
    check_drift, generate, live_drift, pending_steps, render_steps, Drift, Migrations, Permissions,
    Phase, Step, FILL_IN,
};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::Error;
use ordinance_tests::{least_privilege_roles, Folder};

// The first version: one table for every customer. (Both versions share
// one doc comment, so the table comment does not change between them.)
/// Memos left by support staff.
#[derive(Entity, Debug, Clone)]
#[entity(table = "memos")]
pub struct MemoV1 {
    pub id: Uuid,
    #[column(max_len = 200)]
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

// The second version: each memo belongs to a tenant.
/// Memos left by support staff.
#[derive(Entity, Debug, Clone)]
#[entity(table = "memos", tenant)]
pub struct Memo {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 200)]
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The statements of the steps of `phase`.
fn statements(steps: &[Step], phase: Phase) -> Vec<&str> {
    steps
        .iter()
        .filter(|s| s.phase == phase)
        .flat_map(|s| s.up.iter().map(String::as_str))
        .collect()
}

fn is_policy(statement: &str) -> bool {
    statement.starts_with("CREATE POLICY \"tenant_isolation\" ON \"memos\" USING (")
        && statement.contains("WITH CHECK (")
        && statement.contains("current_setting('app.tenant_id'")
}

#[tokio::test]
async fn an_entity_made_tenant_scoped_gets_row_security_from_the_generator() {
    // The first version is deployed and holds rows.
    let dir = Folder::new();
    generate(&[MemoV1::SCHEMA], &*dir, "memos", Permissions::default())
        .await
        .expect("v1");
    let db = TestDatabase::create().await.expect("db");
    let mut owner = db.connect().await.expect("connect");
    Migrations::load(&*dir)
        .expect("load")
        .up(&mut owner)
        .await
        .expect("v1 applied");
    for body in ["old memo 1", "old memo 2"] {
        Repo::new(&owner)
            .insert(&NewMemoV1 { body: body.into() })
            .await
            .expect("v1 insert");
    }

    let steps = pending_steps(&[Memo::SCHEMA], &*dir, Permissions::default())
        .await
        .expect("diff");
    let expand = statements(&steps, Phase::Expand);
    let contract = statements(&steps, Phase::Contract);
    // The policy binds no one until row-level security is on: it comes
    // with the column, while the previous version runs.
    assert!(
        expand.iter().any(|s| is_policy(s)),
        "{}",
        render_steps(&steps)
    );
    // Turning it on hides every row from a version that sets no tenant:
    // only once that version is gone, after the backfill.
    let on = [
        "ALTER TABLE \"memos\" ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE \"memos\" FORCE ROW LEVEL SECURITY",
    ];
    assert!(
        on.iter().all(|s| contract.contains(s)),
        "{}",
        render_steps(&steps)
    );
    assert!(!expand.iter().any(|s| s.contains("ROW LEVEL SECURITY")));
    let step_of = |statement: &str| {
        steps
            .iter()
            .position(|s| s.up.iter().any(|u| u == statement))
            .expect("a step")
    };
    let backfill = steps.iter().position(|s| s.backfill).expect("a backfill");
    assert!(step_of(on[0]) > backfill, "{}", render_steps(&steps));
    // Each step's down undoes it.
    let downs: Vec<&str> = steps
        .iter()
        .flat_map(|s| s.down.iter().map(String::as_str))
        .collect();
    assert!(downs.contains(&"DROP POLICY \"tenant_isolation\" ON \"memos\""));
    assert!(downs.contains(&"ALTER TABLE \"memos\" DISABLE ROW LEVEL SECURITY"));
    assert!(downs.contains(&"ALTER TABLE \"memos\" NO FORCE ROW LEVEL SECURITY"));

    // The team says whose the old rows are, and deploys: expand, then
    // contract once the new version runs everywhere.
    let written = generate(&[Memo::SCHEMA], &*dir, "tenants", Permissions::default())
        .await
        .expect("v2 written");
    let legacy = Uuid::now_v7();
    for file in &written {
        let text = std::fs::read_to_string(file).expect("read");
        if text.contains(FILL_IN) {
            let filled: Vec<String> = text
                .lines()
                .filter(|line| !line.contains(FILL_IN))
                .map(|line| line.replace("FILL_IN", &format!("'{legacy}'::uuid")))
                .collect();
            std::fs::write(file, filled.join("\n")).expect("write");
        }
    }
    let migrations = Migrations::load(&*dir).expect("load");
    migrations.up(&mut owner).await.expect("expand");
    migrations.contract(&mut owner).await.expect("contract");
    assert_eq!(
        check_drift(&[Memo::SCHEMA], &*dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );

    // The old rows are the legacy tenant's, and only its.
    let (app, _) = least_privilege_roles(&db, &[Memo::SCHEMA], false).await;
    let as_app = app_connection(&db, &app).await;
    set_tenant(&as_app, legacy).await;
    assert_eq!(Repo::new(&as_app).count::<Memo>().await.unwrap(), 2);
    set_tenant(&as_app, Uuid::now_v7()).await;
    assert_eq!(Repo::new(&as_app).count::<Memo>().await.unwrap(), 0);
}

async fn app_connection(db: &TestDatabase, role: &str) -> ordinance::exec::Connection {
    let mut config = db.config().clone();
    config.user(role);
    ordinance::testing::connect(&config).await.expect("app")
}

/// Sets the session's tenant (session-wide: this connection is not shared).
async fn set_tenant(conn: &ordinance::exec::Connection, tenant: Uuid) {
    conn.batch_execute(&format!(
        "SELECT set_config('app.tenant_id', '{tenant}', false)"
    ))
    .await
    .expect("tenant");
}

#[tokio::test]
async fn row_security_changed_by_hand_is_drift_and_the_steps_restore_it() {
    let ddl = SchemaDdl::new(&[Memo::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let owner = db.connect().await.expect("connect");
    let drift = async || live_drift(&owner, &[Memo::SCHEMA]).await.expect("drift");
    assert!(drift().await.is_empty(), "{}", render_steps(&drift().await));

    // The owner no longer held to the policy.
    owner
        .batch_execute("ALTER TABLE memos NO FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    let steps = drift().await;
    assert_eq!(
        statements(&steps, Phase::Contract),
        ["ALTER TABLE \"memos\" FORCE ROW LEVEL SECURITY"]
    );
    assert!(statements(&steps, Phase::Expand).is_empty());

    // A policy that lets every row through, under the same name.
    owner
        .batch_execute(
            "ALTER TABLE memos FORCE ROW LEVEL SECURITY; \
             DROP POLICY tenant_isolation ON memos; \
             CREATE POLICY tenant_isolation ON memos USING (true)",
        )
        .await
        .unwrap();
    let steps = drift().await;
    let contract = statements(&steps, Phase::Contract);
    assert_eq!(contract.len(), 2, "{}", render_steps(&steps));
    assert_eq!(contract[0], "DROP POLICY \"tenant_isolation\" ON \"memos\"");
    assert!(is_policy(contract[1]), "{}", contract[1]);
    let down: Vec<&str> = steps
        .iter()
        .flat_map(|s| s.down.iter().map(String::as_str))
        .collect();
    assert_eq!(
        down,
        [
            "DROP POLICY \"tenant_isolation\" ON \"memos\"",
            "CREATE POLICY \"tenant_isolation\" ON \"memos\" USING (true)",
        ]
    );

    // Row-level security off and the policy gone: the policy comes back
    // first, row-level security is turned on in the contract phase.
    owner
        .batch_execute(
            "DROP POLICY tenant_isolation ON memos; \
             ALTER TABLE memos NO FORCE ROW LEVEL SECURITY; \
             ALTER TABLE memos DISABLE ROW LEVEL SECURITY",
        )
        .await
        .unwrap();
    let steps = drift().await;
    let expand = statements(&steps, Phase::Expand);
    assert_eq!(expand.len(), 1, "{}", render_steps(&steps));
    assert!(is_policy(expand[0]), "{}", expand[0]);
    assert_eq!(
        statements(&steps, Phase::Contract),
        [
            "ALTER TABLE \"memos\" ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \"memos\" FORCE ROW LEVEL SECURITY",
        ]
    );

    // Meanwhile, a role that neither owns the table nor is a superuser
    // reads every tenant's memos.
    let (app, _) = least_privilege_roles(&db, &[Memo::SCHEMA], false).await;
    let as_app = app_connection(&db, &app).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    set_tenant(&as_app, a).await;
    Repo::new(&as_app)
        .insert(&NewMemo {
            body: "a's memo".into(),
        })
        .await
        .expect("insert as a");
    set_tenant(&as_app, b).await;
    assert_eq!(Repo::new(&as_app).count::<Memo>().await.unwrap(), 1);

    // The steps, applied in order, restore isolation and leave no drift.
    for statement in statements(&steps, Phase::Expand)
        .into_iter()
        .chain(statements(&steps, Phase::Contract))
    {
        owner.batch_execute(statement).await.expect(statement);
    }
    assert!(drift().await.is_empty(), "{}", render_steps(&drift().await));
    assert_eq!(Repo::new(&as_app).count::<Memo>().await.unwrap(), 0);
    set_tenant(&as_app, a).await;
    assert_eq!(Repo::new(&as_app).count::<Memo>().await.unwrap(), 1);
}

/// A tenant's boards.
#[derive(Entity, Debug, Clone)]
#[entity(tenant)]
pub struct Board {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Cards on a board.
#[derive(Entity, Debug, Clone)]
#[entity(tenant)]
pub struct Card {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(references = Board, on_delete = "cascade")]
    pub board_id: Uuid,
    #[column(max_len = 80)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The schema an earlier version of the kit generated for `Board` and
/// `Card`: a single-column foreign key, and no `(tenant_id, id)` key.
fn single_column_schema() -> String {
    let ddl = SchemaDdl::new(&[Board::SCHEMA, Card::SCHEMA])
        .expect("ddl")
        .up();
    let composite =
        "FOREIGN KEY (\"tenant_id\", \"board_id\") REFERENCES \"boards\" (\"tenant_id\", \"id\")";
    let unique = "CREATE UNIQUE INDEX \"idx_boards_tenant_id_id_unique\" ON \"boards\" (\"tenant_id\", \"id\");\n";
    let unique_cards = "CREATE UNIQUE INDEX \"idx_cards_tenant_id_id_unique\" ON \"cards\" (\"tenant_id\", \"id\");\n";
    assert!(ddl.contains(composite) && ddl.contains(unique) && ddl.contains(unique_cards));
    ddl.replace(
        composite,
        "FOREIGN KEY (\"board_id\") REFERENCES \"boards\" (\"id\")",
    )
    .replace(unique, "")
    .replace(unique_cards, "")
}

#[tokio::test]
async fn a_single_column_key_between_tenant_tables_becomes_composite_without_a_gap() {
    let dir = Folder::new();
    dir.write("20260101000000_v1.up.sql", &single_column_schema());
    let db = TestDatabase::create().await.expect("db");
    let mut owner = db.connect().await.expect("connect");
    let migrations = || Migrations::load(&*dir).expect("load");
    migrations().up(&mut owner).await.expect("v1");
    // Rows of two tenants, and the hole: a card of b on a's board.
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let a_board = Uuid::now_v7();
    owner
        .execute(
            "INSERT INTO boards (id, tenant_id, name) VALUES ($1, $2, 'a')",
            &[&a_board, &a],
        )
        .await
        .unwrap();
    let planted = Uuid::now_v7();
    owner
        .execute(
            "INSERT INTO cards (id, tenant_id, board_id, title) VALUES ($1, $2, $3, 'planted'), ($4, $5, $3, 'fine')",
            &[&planted, &b, &a_board, &Uuid::now_v7(), &a],
        )
        .await
        .unwrap();

    let steps = pending_steps(
        &[Board::SCHEMA, Card::SCHEMA],
        &*dir,
        Permissions::default(),
    )
    .await
    .expect("steps");
    let rendered = render_steps(&steps);
    // The keys are built in the expand phase, concurrently: nothing can
    // break them. The old foreign key stays until the new one is valid.
    let expand = statements(&steps, Phase::Expand);
    assert!(
        expand.contains(&"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"idx_boards_tenant_id_id_unique\" ON \"boards\" (\"tenant_id\", \"id\")"),
        "{rendered}"
    );
    assert!(
        !expand.iter().any(|s| s.contains("DROP CONSTRAINT")),
        "{rendered}"
    );
    let contract = statements(&steps, Phase::Contract);
    let at = |needle: &str| {
        contract
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in\n{rendered}"))
    };
    let added =
        at("ADD CONSTRAINT \"cards_board_id_fkey_next\" FOREIGN KEY (\"tenant_id\", \"board_id\")");
    let validated = at("VALIDATE CONSTRAINT \"cards_board_id_fkey_next\"");
    let dropped = at("DROP CONSTRAINT \"cards_board_id_fkey\"");
    let renamed = at("RENAME CONSTRAINT \"cards_board_id_fkey_next\" TO \"cards_board_id_fkey\"");
    assert!(
        added < validated && validated < dropped && dropped < renamed,
        "{rendered}"
    );
    assert!(contract[added].ends_with("NOT VALID"), "{rendered}");

    generate(
        &[Board::SCHEMA, Card::SCHEMA],
        &*dir,
        "tenant_keys",
        Permissions::default(),
    )
    .await
    .expect("generate");
    migrations().up(&mut owner).await.expect("expand");
    // The card planted across tenants fails the validation: the contract
    // stops there, and the old key still holds.
    let err = migrations().contract(&mut owner).await.unwrap_err();
    assert!(
        err.to_string().contains("cards_board_id_fkey_next"),
        "{err}"
    );
    owner
        .execute("DELETE FROM cards WHERE id = $1", &[&planted])
        .await
        .unwrap();
    // Run again, it finishes (the step that failed starts over).
    migrations().contract(&mut owner).await.expect("contract");
    assert_eq!(
        check_drift(
            &[Board::SCHEMA, Card::SCHEMA],
            &*dir,
            None,
            Permissions::default()
        )
        .await
        .expect("drift"),
        Drift::UpToDate
    );
    // b cannot put a card on a's board any more, whoever asks.
    let err = owner
        .execute(
            "INSERT INTO cards (id, tenant_id, board_id, title) VALUES ($1, $2, $3, 'again')",
            &[&Uuid::now_v7(), &b, &a_board],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ordinance::deps::tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    );

    // Reverted, the single-column key is back under its name.
    let v1 = migrations().list()[0].version;
    migrations().down_to(&mut owner, v1).await.expect("down");
    let definition: String = owner
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'cards_board_id_fkey'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        definition,
        "FOREIGN KEY (board_id) REFERENCES boards(id) ON DELETE CASCADE"
    );
}

// A version with an optional priority.
/// Memos left by support staff.
#[derive(Entity, Debug, Clone)]
#[entity(table = "memos", tenant)]
pub struct MemoPriority {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 200)]
    pub body: String,
    #[column(min = 1, max = 5)]
    pub priority: Option<i16>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

// The next: every memo has one, 3 for the memos without.
/// Memos left by support staff.
#[derive(Entity, Debug, Clone)]
#[entity(table = "memos", tenant)]
pub struct MemoV3 {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(max_len = 200)]
    pub body: String,
    #[column(min = 1, max = 5, backfill = 3)]
    pub priority: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A database owned by a role of its own, made as the README shows: a
/// login role that is no superuser and does not bypass row-level security.
/// The database, its connection as that role, and the role's name.
async fn owned_database() -> (TestDatabase, ordinance::exec::Connection, String) {
    let db = TestDatabase::create().await.expect("db");
    let role = format!("{}_owner", db.name());
    let admin = db.connect().await.expect("admin");
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOBYPASSRLS; \
             ALTER DATABASE \"{}\" OWNER TO \"{role}\"",
            db.name()
        ))
        .await
        .expect("owner role");
    let mut config = db.config().clone();
    config.user(&role);
    let conn = ordinance::testing::connect(&config).await.expect("owner");
    (db, conn, role)
}

/// A backfill on a table whose row-level security is forced on its owner
/// sees no row as an owner that cannot bypass it. It used to report
/// success having filled nothing, and the validation two migrations later
/// failed; now the runner refuses it naming the role and the fix, and with
/// the fix it fills every row and says so.
#[tokio::test]
async fn a_backfill_row_security_hides_rows_from_is_refused_with_the_fix() {
    let (db, mut owner, role) = owned_database().await;
    let dir = Folder::new();
    generate(
        &[MemoPriority::SCHEMA],
        &*dir,
        "memos",
        Permissions::default(),
    )
    .await
    .expect("v2");
    Migrations::load(&*dir)
        .expect("load")
        .contract(&mut owner)
        .await
        .expect("v2 applied by its owner");
    // Two tenants' memos, without a priority, written as the application
    // writes them.
    let (app, _) = least_privilege_roles(&db, &[MemoPriority::SCHEMA], false).await;
    let as_app = app_connection(&db, &app).await;
    for tenant in [Uuid::now_v7(), Uuid::now_v7()] {
        set_tenant(&as_app, tenant).await;
        for body in ["one", "two"] {
            Repo::new(&as_app)
                .insert(&NewMemoPriority {
                    body: body.into(),
                    priority: None,
                })
                .await
                .expect("memo");
        }
    }

    generate(&[MemoV3::SCHEMA], &*dir, "priority", Permissions::default())
        .await
        .expect("v3");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let migrations = || {
        let lines = lines.clone();
        Migrations::load(&*dir)
            .expect("load")
            .backfill_pause(std::time::Duration::ZERO)
            .on_progress(move |line| lines.lock().unwrap().push(line.to_owned()))
    };
    migrations().up(&mut owner).await.expect("expand");
    let err = migrations().contract(&mut owner).await.unwrap_err();
    match &err {
        Error::MigrationRowSecurity {
            role: named,
            tables,
            ..
        } => {
            assert_eq!(named, &role);
            assert_eq!(tables, &["memos".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&format!("ALTER ROLE \"{role}\" BYPASSRLS")),
        "{text}"
    );
    assert!(
        !lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("_backfill in")),
        "the backfill is not reported applied: {:?}",
        lines.lock().unwrap()
    );

    // The fix, as the error says it: then every row is filled.
    db.connect()
        .await
        .expect("admin")
        .batch_execute(&format!("ALTER ROLE \"{role}\" BYPASSRLS"))
        .await
        .expect("bypass");
    let mut owner = {
        let mut config = db.config().clone();
        config.user(&role);
        ordinance::testing::connect(&config).await.expect("owner")
    };
    migrations().contract(&mut owner).await.expect("contract");
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.ends_with(": 4 rows filled, 0 left")),
        "{:?}",
        lines.lock().unwrap()
    );
    assert_eq!(
        check_drift(&[MemoV3::SCHEMA], &*dir, None, Permissions::default())
            .await
            .expect("drift"),
        Drift::UpToDate
    );
}

/// A backfill whose value leaves rows empty is not recorded, and says how
/// many it left; a validation that fails says how many rows break the
/// constraint.
#[tokio::test]
async fn a_backfill_that_leaves_rows_empty_and_a_failed_validation_say_how_many() {
    let dir = Folder::new();
    dir.write(
        "20260101000000_items.up.sql",
        "CREATE TABLE items (id uuid PRIMARY KEY, size integer);\n\
         INSERT INTO items SELECT gen_random_uuid(), NULL FROM generate_series(1, 7);",
    );
    dir.write(
        "20260101000001_items_backfill.up.sql",
        &format!(
            "{}\n{}\n\
             WITH batch AS (SELECT id FROM items WHERE id > $1 ORDER BY id LIMIT 5),\n\
             filled AS (UPDATE items SET size = NULL WHERE id IN (SELECT id FROM batch) AND size IS NULL RETURNING 1)\n\
             SELECT (SELECT id FROM batch ORDER BY id DESC LIMIT 1), (SELECT count(*) FROM filled);\n\
             SELECT count(*) AS rows_left FROM items WHERE size IS NULL;",
            ordinance::migrate::NO_TRANSACTION,
            ordinance::migrate::BACKFILL
        ),
    );
    let db = TestDatabase::create().await.expect("db");
    let mut conn = db.connect().await.expect("connect");
    let err = Migrations::load(&*dir)
        .expect("load")
        .backfill_pause(std::time::Duration::ZERO)
        .up(&mut conn)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BackfillIncomplete {
                statement: 1,
                filled: 7,
                left: 7,
                ..
            }
        ),
        "{err:?}"
    );

    // The backfill done by hand for some rows only; the validation fails
    // and counts the rest.
    std::fs::remove_file(dir.join("20260101000001_items_backfill.up.sql")).expect("rm");
    conn.batch_execute(
        "UPDATE items SET size = 1 WHERE id IN (SELECT id FROM items ORDER BY id LIMIT 4)",
    )
    .await
    .expect("some");
    dir.write(
        "20260101000002_items_contract.up.sql",
        "ALTER TABLE items ADD CONSTRAINT items_size_not_null CHECK (size IS NOT NULL) NOT VALID;",
    );
    dir.write(
        "20260101000003_items_validate.up.sql",
        "ALTER TABLE items VALIDATE CONSTRAINT items_size_not_null;",
    );
    let err = Migrations::load(&*dir)
        .expect("load")
        .up(&mut conn)
        .await
        .unwrap_err();
    match &err {
        Error::MigrationValidationFailed {
            table,
            constraint,
            violating,
            ..
        } => assert_eq!(
            (table.as_str(), constraint.as_str(), *violating),
            ("items", "items_size_not_null", 3)
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("3 rows of \"items\" break \"items_size_not_null\""),
        "{err}"
    );
}
