//! `proof::verify`: a deploy proven before it runs. Release 1's catalog is
//! blessed beside its migrations; release 2 changes the entity one way or
//! another; the proof applies release 2's migrations one at a time to a
//! scratch database and prepares every statement of the release running
//! at each point. Renaming a column and a hand-written `NOT NULL` column
//! break release 1; the documented recipes (a new table, a nullable or
//! defaulted column, a `NOT NULL` column with a backfill, a new index, a
//! new check, a dropped column) do not.

use ordinance::migrate::{generate, Migrations, Permissions, CATALOG_FILE};
use ordinance::prelude::*;
use ordinance::proof::{describe, verify, Proof, Release, StatementCatalog};
use ordinance::testing::TestDatabase;

/// Release 1.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets", keyset(name, id))]
pub struct GadgetV1 {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// `name` renamed to `title`.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets", keyset(title, id))]
pub struct GadgetRenamed {
    pub id: Uuid,
    #[column(max_len = 80, renamed_from = "name")]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A nullable column, and one with a constant default.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets", keyset(name, id))]
pub struct GadgetWithNote {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub note: Option<String>,
    #[column(default = 0)]
    pub stock: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A `NOT NULL` column with a backfill, a new index and a new check.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets", keyset(name, id))]
pub struct GadgetWithPriority {
    pub id: Uuid,
    #[column(min_len = 1, max_len = 80, index)]
    pub name: String,
    #[column(backfill = 3, min = 1)]
    pub priority: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// `name` dropped.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets")]
pub struct GadgetWithoutName {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A new table beside release 1's.
#[derive(Entity, Debug, Clone)]
pub struct Widget {
    pub id: Uuid,
    #[column(references = GadgetV1)]
    pub gadget_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A `NOT NULL` column without a default, as a hand-written migration
/// would add it.
#[derive(Entity, Debug, Clone)]
#[entity(table = "gadgets", keyset(name, id))]
pub struct GadgetHandWritten {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub name: String,
    pub priority: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn scratch_dir(case: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ordinance-proof-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A folder holding release 1's migrations, and release 1's catalog.
async fn release1(case: &str) -> (std::path::PathBuf, StatementCatalog) {
    let dir = scratch_dir(case);
    generate(&[GadgetV1::SCHEMA], &dir, "gadgets", Permissions::default())
        .await
        .unwrap();
    let previous = StatementCatalog::read(dir.join(CATALOG_FILE)).unwrap();
    (dir, previous)
}

/// Release 1 blessed, then release 2 blessed on top, and the proof of the
/// deploy between them.
async fn prove(
    case: &str,
    release2: &[&'static ordinance::TableSchema],
    permissions: Permissions,
) -> Proof {
    let (dir, previous) = release1(case).await;
    generate(release2, &dir, case, permissions).await.unwrap();
    let new = StatementCatalog::read(dir.join(CATALOG_FILE)).unwrap();
    assert_ne!(previous, new);
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let proof = verify(
        &mut client,
        &Migrations::load(&dir).unwrap(),
        &previous,
        &new,
    )
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    proof
}

#[tokio::test]
async fn a_renamed_column_fails_the_previous_release_at_the_rename() {
    let proof = prove("rename", &[GadgetRenamed::SCHEMA], Permissions::default()).await;
    let report = proof.to_string();
    assert!(!proof.passed(), "{report}");
    // Only release 1 fails, and only after the rename.
    assert!(
        proof
            .failures
            .iter()
            .all(|f| f.release == Release::Previous && f.phase.ends_with("_rename")),
        "{report}"
    );
    let insert = proof
        .failures
        .iter()
        .find(|f| f.operation == "insert")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(insert.entity, "GadgetV1");
    assert_eq!(insert.table, "gadgets");
    // PostgreSQL's own words, with the SQLSTATE.
    assert!(insert.problem.contains("42703"), "{}", insert.problem);
    assert!(
        insert
            .problem
            .contains("column \"name\" of relation \"gadgets\" does not exist"),
        "{}",
        insert.problem
    );
    let shown = insert.to_string();
    assert!(
        shown.starts_with("previous release: GadgetV1 insert (gadgets) after 2"),
        "{shown}"
    );
    // Every statement naming the column fails: reads, writes, the batch.
    for operation in [
        "get",
        "update",
        "patch",
        "copy_in",
        "insert_many",
        "load_by_id",
    ] {
        assert!(
            proof.failures.iter().any(|f| f.operation == operation),
            "{operation} not caught:\n{report}"
        );
    }
    // Release 2's own statements work from the expand phase on: no
    // failure is the new release's.
    assert!(
        report.starts_with(
            "before the pending migrations: 17 statements of the previous release, 0 of the new: ok\n"
        ),
        "{report}"
    );
    assert!(
        proof
            .phases
            .last()
            .is_some_and(|(_, previous, new)| *previous == 17 && *new == 17),
        "{report}"
    );
    assert!(
        !proof.failures.iter().any(|f| f.release == Release::New),
        "{report}"
    );
}

#[tokio::test]
async fn a_hand_written_not_null_column_fails_the_previous_releases_inserts() {
    let (dir, previous) = release1("not_null").await;
    let first = previous.schema.unwrap();
    // Written by hand: the generator refuses a NOT NULL column without a
    // value (Error::NotNullWithoutValue).
    let version = first + 1;
    std::fs::write(
        dir.join(format!("{version}_priority.up.sql")),
        "ALTER TABLE \"gadgets\" ADD COLUMN \"priority\" SMALLINT NOT NULL;\n",
    )
    .unwrap();
    let migrations = Migrations::load(&dir).unwrap();
    // Release 2's catalog, described on the schema the migrations build.
    let built = TestDatabase::create().await.unwrap();
    let mut client = built.connect().await.unwrap();
    migrations.contract(&mut client).await.unwrap();
    let new = describe(&client, &[GadgetHandWritten::SCHEMA], Some(version))
        .await
        .unwrap();

    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let proof = verify(&mut client, &migrations, &previous, &new)
        .await
        .unwrap();
    let report = proof.to_string();
    let mut failed: Vec<&str> = proof
        .failures
        .iter()
        .map(|f| {
            assert_eq!(f.release, Release::Previous, "{report}");
            assert_eq!(f.phase, format!("{version}_priority"), "{report}");
            assert!(
                f.problem
                    .contains("writes no value to \"priority\", NOT NULL without a default"),
                "{report}"
            );
            f.operation.as_str()
        })
        .collect();
    failed.sort();
    // Every way release 1 inserts; its reads and updates still work.
    assert_eq!(failed, ["copy_in", "insert", "insert_many"], "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_documented_recipes_pass() {
    for (case, release2, permissions) in [
        (
            "nullable",
            vec![GadgetWithNote::SCHEMA],
            Permissions::default(),
        ),
        (
            "backfill",
            vec![GadgetWithPriority::SCHEMA],
            Permissions::default(),
        ),
        (
            "new_table",
            vec![GadgetV1::SCHEMA, Widget::SCHEMA],
            Permissions::default(),
        ),
        (
            "drop_column",
            vec![GadgetWithoutName::SCHEMA],
            Permissions {
                allow_destructive: true,
            },
        ),
    ] {
        let proof = prove(case, &release2, permissions).await;
        assert!(proof.passed(), "{case}:\n{proof}");
        // Both releases were proven, at more than one point.
        assert!(
            proof.phases.iter().any(|(_, previous, _)| *previous > 0)
                && proof.phases.iter().any(|(_, _, new)| *new > 0),
            "{case}:\n{proof}"
        );
    }
}

#[tokio::test]
async fn a_widened_column_fails_what_reads_it() {
    let (dir, previous) = release1("widen").await;
    let version = previous.schema.unwrap() + 1;
    std::fs::write(
        dir.join(format!("{version}_wide.up.sql")),
        "ALTER TABLE \"gadgets\" ALTER COLUMN \"version\" TYPE BIGINT;\n",
    )
    .unwrap();
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let migrations = Migrations::load(&dir).unwrap();
    let mut new = previous.clone();
    new.schema = Some(version);
    let proof = verify(&mut client, &migrations, &previous, &new)
        .await
        .unwrap();
    let report = proof.to_string();
    let get = proof
        .failures
        .iter()
        .find(|f| f.operation == "get" && f.release == Release::Previous)
        .unwrap_or_else(|| panic!("{report}"));
    // An i32 field cannot read a BIGINT.
    assert_eq!(
        get.problem, "column 6 is int8 now; the release reads int4",
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `git` in `dir`, which must succeed.
fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=ordinance",
            "-c",
            "user.email=ci@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_command_proves_against_a_file_or_a_git_ref_and_says_why_not() {
    let dir = scratch_dir("cli");
    let migrations_dir = dir.join("migrations");
    std::fs::create_dir_all(&migrations_dir).unwrap();
    // Release 1, committed; release 2 renames a column.
    generate(
        &[GadgetV1::SCHEMA],
        &migrations_dir,
        "gadgets",
        Permissions::default(),
    )
    .await
    .unwrap();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "release 1"]);
    git(&dir, &["tag", "v1"]);
    let saved = dir.join("release1.catalog");
    std::fs::copy(migrations_dir.join(CATALOG_FILE), &saved).unwrap();
    generate(
        &[GadgetRenamed::SCHEMA],
        &migrations_dir,
        "rename",
        Permissions::default(),
    )
    .await
    .unwrap();
    let migrations = Migrations::load(&migrations_dir).unwrap();
    let db = TestDatabase::create().await.unwrap();
    let where_ = migrations_dir.to_str().unwrap();
    for previous in [saved.to_str().unwrap(), "v1"] {
        let proof = ordinance::cli::verify(db.config(), &migrations, previous, where_)
            .await
            .unwrap();
        assert!(!proof.passed(), "{previous}: {proof}");
        assert!(
            proof
                .failures
                .iter()
                .all(|f| f.release == Release::Previous),
            "{proof}"
        );
    }
    // Once release 2 is committed, against HEAD nothing is pending and
    // nothing fails.
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "release 2"]);
    let proof = ordinance::cli::verify(db.config(), &migrations, "HEAD", where_)
        .await
        .unwrap();
    assert!(proof.passed(), "{proof}");
    // A ref without the catalog, or no ref at all, says so.
    let err = ordinance::cli::verify(db.config(), &migrations, "no-such-ref", where_)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`no-such-ref` is neither a catalog file nor a git ref holding"),
        "{err}"
    );
    // No database is left behind on the server.
    let client = db.connect().await.unwrap();
    let left = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'ordinance_verify_%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(left.get::<_, i64>(0), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_generated_recipe_follows_the_lint_rules_and_a_hand_written_one_is_told_the_fix() {
    let dir = scratch_dir("lint");
    // Each release after the first drops what the one before added.
    let drops = Permissions {
        allow_destructive: true,
    };
    for (name, release) in [
        ("gadgets", vec![GadgetV1::SCHEMA]),
        ("note", vec![GadgetWithNote::SCHEMA]),
        ("priority", vec![GadgetWithPriority::SCHEMA]),
        ("rename", vec![GadgetRenamed::SCHEMA]),
        ("drop", vec![GadgetWithoutName::SCHEMA]),
        ("widgets", vec![GadgetWithoutName::SCHEMA, Widget::SCHEMA]),
    ] {
        generate(&release, &dir, name, drops).await.unwrap();
    }
    let migrations = Migrations::load(&dir).unwrap();
    assert!(migrations.list().len() >= 8);
    let lints: Vec<_> = migrations
        .list()
        .iter()
        .flat_map(ordinance::migrate::lint)
        .collect();
    assert!(lints.is_empty(), "{lints:#?}");
    // The kit's own examples too.
    for folder in ["../examples/migrations", "../examples/prefixed/migrations"] {
        let lints: Vec<_> = Migrations::load(folder)
            .unwrap()
            .list()
            .iter()
            .flat_map(ordinance::migrate::lint)
            .collect();
        assert!(lints.is_empty(), "{folder}: {lints:#?}");
    }
    // A hand-written one, told what to write instead.
    let hand = dir.join("29990101000000_hand.up.sql");
    std::fs::write(
        &hand,
        "ALTER TABLE \"gadgets\" ADD COLUMN \"code\" UUID DEFAULT gen_random_uuid();\n\
         CREATE INDEX \"gadgets_code\" ON \"gadgets\" (\"code\");\n",
    )
    .unwrap();
    let migrations = Migrations::load(&dir).unwrap();
    let lints = ordinance::migrate::lint(migrations.list().last().unwrap());
    let rules: Vec<&str> = lints.iter().map(|l| l.rule.name()).collect();
    assert_eq!(
        rules,
        ["volatile-default", "concurrent-index", "lock-timeout"],
        "{lints:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
