//! Native enum types as entities change: a new type is created in the
//! expand phase before the column that uses it; a value added anywhere in
//! the enum is an `ALTER TYPE … ADD VALUE` in its sort position, in a
//! migration of its own committed before the expand phase uses it (a
//! column defaulting to the new value); a value removed is refused with the
//! recipe, since PostgreSQL cannot drop one; the drift check compares the
//! types' values.

use ordinance::migrate::{generate, pending_steps, render_steps, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::testing::TestDatabase;
use ordinance::Error;

pub mod v1 {
    use ordinance::prelude::*;

    // The first version: no binding yet.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "volumes")]
    pub struct Volume {
        pub id: Uuid,
        #[column(max_len = 80)]
        pub title: String,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v2 {
    use ordinance::prelude::*;

    #[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Binding {
        Hardcover,
        Paperback,
    }

    // A binding, as a new type.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "volumes")]
    pub struct Volume {
        pub id: Uuid,
        #[column(max_len = 80)]
        pub title: String,
        #[column(default = "paperback")]
        pub binding: Binding,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v3 {
    use ordinance::prelude::*;

    /// Two values more: one first, one between the old ones.
    #[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Binding {
        Scroll,
        Hardcover,
        Spiral,
        Paperback,
    }

    // A second binding column, defaulting to a value this version adds.
    #[derive(Entity, Debug, Clone)]
    #[entity(table = "volumes")]
    pub struct Volume {
        pub id: Uuid,
        #[column(max_len = 80)]
        pub title: String,
        #[column(default = "paperback")]
        pub binding: Binding,
        #[column(default = "spiral")]
        pub spare_binding: Binding,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod other {
    use ordinance::prelude::*;

    /// Another table whose enum is stored under the same type name, with
    /// other values.
    #[derive(Entity, Debug, Clone)]
    pub struct Pamphlet {
        pub id: Uuid,
        pub binding: super::v3::Binding,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }

    /// An enum named like a table: its type would take the table's name.
    #[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Pamphlets {
        Folded,
    }

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "leaflets")]
    pub struct Leaflet {
        pub id: Uuid,
        pub fold: Pamphlets,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

#[test]
fn one_type_name_means_one_type() {
    use ordinance::ddl::SchemaDdl;
    // Two enums stored as "binding" with different values.
    let err = SchemaDdl::new(&[v2::Volume::SCHEMA, other::Pamphlet::SCHEMA]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DuplicateName {
                name: "binding",
                ..
            }
        ),
        "{err:?}"
    );
    // The same enum in two tables is one type, created once.
    let ddl = SchemaDdl::new(&[v3::Volume::SCHEMA, other::Pamphlet::SCHEMA])
        .unwrap()
        .up();
    assert_eq!(ddl.matches("CREATE TYPE \"binding\"").count(), 1, "{ddl}");
    // A type named like a table.
    let err = SchemaDdl::new(&[other::Pamphlet::SCHEMA, other::Leaflet::SCHEMA]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DuplicateName {
                name: "pamphlets",
                ..
            }
        ),
        "{err:?}"
    );
}

pub mod v4 {
    use ordinance::prelude::*;

    /// `Spiral` removed.
    #[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Binding {
        Scroll,
        Hardcover,
        Paperback,
    }

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "volumes")]
    pub struct Volume {
        pub id: Uuid,
        #[column(max_len = 80)]
        pub title: String,
        #[column(default = "paperback")]
        pub binding: Binding,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

async fn values(client: &tokio_postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = 'binding'::regtype ORDER BY enumsortorder",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

use ordinance::deps::tokio_postgres;

#[tokio::test]
async fn types_are_created_grown_in_place_and_never_shrunk_silently() {
    let dir = std::env::temp_dir().join(format!("ordinance-enums-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let none = Permissions::default();
    generate(&[v1::Volume::SCHEMA], &dir, "volumes", none)
        .await
        .unwrap();
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    Migrations::load(&dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    client
        .batch_execute("INSERT INTO volumes (title) VALUES ('Old')")
        .await
        .unwrap();

    // A new type: created in the expand phase, before its column.
    let steps = pending_steps(&[v2::Volume::SCHEMA], &dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    assert_eq!(steps.len(), 1, "{sql}");
    assert_eq!(steps[0].label, "expand", "{sql}");
    assert_eq!(
        steps[0].up,
        [
            "CREATE TYPE \"binding\" AS ENUM ('hardcover', 'paperback')",
            "ALTER TABLE \"volumes\" ADD COLUMN \"binding\" \"binding\" DEFAULT 'paperback' NOT NULL",
        ],
        "{sql}"
    );
    assert_eq!(
        steps[0].down,
        [
            "ALTER TABLE \"volumes\" DROP COLUMN \"binding\"",
            "DROP TYPE \"binding\""
        ],
        "{sql}"
    );
    generate(&[v2::Volume::SCHEMA], &dir, "binding", none)
        .await
        .unwrap();
    Migrations::load(&dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    assert_eq!(values(&client).await, ["hardcover", "paperback"]);

    // Values added in place, in a migration of their own before the
    // expand phase that defaults a column to one of them.
    let steps = pending_steps(&[v3::Volume::SCHEMA], &dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    assert_eq!(steps[0].label, "types", "{sql}");
    assert_eq!(
        steps[0].up,
        [
            "ALTER TYPE \"binding\" ADD VALUE IF NOT EXISTS 'scroll' BEFORE 'hardcover'",
            "ALTER TYPE \"binding\" ADD VALUE IF NOT EXISTS 'spiral' AFTER 'hardcover'",
        ],
        "{sql}"
    );
    assert!(steps[0].down.is_empty(), "{sql}");
    assert_eq!(steps[1].label, "expand", "{sql}");
    assert!(
        steps[1].up[0].contains("ADD COLUMN \"spare_binding\" \"binding\" DEFAULT 'spiral'"),
        "{sql}"
    );
    // The plan says what the type change locks: no table.
    generate(&[v3::Volume::SCHEMA], &dir, "more_bindings", none)
        .await
        .unwrap();
    let migrations = Migrations::load(&dir).unwrap();
    let pending = migrations.pending(&client).await.unwrap();
    let plans = ordinance::migrate::plan::plan(&pending);
    let add = plans[0]
        .statements
        .iter()
        .find(|s| s.sql.contains("ADD VALUE"))
        .unwrap();
    assert_eq!(add.lock, None, "{add:?}");
    migrations.contract(&mut client).await.unwrap();
    assert_eq!(
        values(&client).await,
        ["scroll", "hardcover", "spiral", "paperback"]
    );
    let row = client
        .query_one("SELECT spare_binding::text FROM volumes", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "spiral");
    // Up to date: nothing left, the drift check included.
    assert!(pending_steps(&[v3::Volume::SCHEMA], &dir, none)
        .await
        .unwrap()
        .is_empty());

    // A value removed: refused, with the recipe.
    let err = pending_steps(
        &[v4::Volume::SCHEMA],
        &dir,
        Permissions {
            allow_destructive: true,
        },
    )
    .await
    .unwrap_err();
    let Error::ManualMigration(changes) = &err else {
        panic!("{err:?}");
    };
    assert!(
        changes.iter().any(|c| c.contains("enum type \"binding\"")
            && c.contains(
                "(scroll, hardcover, spiral, paperback) to (scroll, hardcover, paperback)"
            )
            && c.contains("USING column::text::new_type")),
        "{changes:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The catalogue's statements — native enum casts, a tenant table, VARCHAR
/// columns — prove against the schema its migrations build, and its
/// migrations follow the kit's rules.
#[tokio::test]
async fn the_catalogue_passes_the_deploy_proof_and_the_lint() {
    let db = TestDatabase::create().await.unwrap();
    let migrations = Migrations::load("migrations").unwrap();
    let proof = ordinance::cli::verify(
        db.config(),
        &migrations,
        "migrations/statements.catalog",
        "migrations",
    )
    .await
    .unwrap();
    assert!(proof.passed(), "{proof}");
    let catalog =
        ordinance::proof::StatementCatalog::read("migrations/statements.catalog").unwrap();
    let insert = catalog
        .entries
        .iter()
        .find(|e| e.entity == "Book" && e.operation == "insert")
        .unwrap();
    assert!(insert.sql.contains("::\"book_format\""), "{}", insert.sql);
    assert!(
        insert.returns.iter().any(|t| t == "book_format"),
        "{insert:?}"
    );
    let lints: Vec<_> = migrations
        .list()
        .iter()
        .flat_map(ordinance::migrate::lint)
        .collect();
    assert!(lints.is_empty(), "{lints:#?}");
}
