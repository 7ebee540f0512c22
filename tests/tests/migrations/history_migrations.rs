//! Row history in migrations: switching `#[entity(history)]` on blesses
//! the history's table, function and trigger in the expand phase; a new
//! column reaches the history table and the function in place; the drift
//! check sees a history that differs; what the migrations build records
//! every change.

use ordinance::migrate::{generate, pending_steps, render_steps, Migrations, Permissions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance_tests::Folder;

pub mod v1 {
    use ordinance::prelude::*;

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "invoices")]
    pub struct Invoice {
        pub id: Uuid,
        #[column(min = 0)]
        pub total: i32,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v2 {
    use ordinance::prelude::*;

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "invoices", history)]
    pub struct Invoice {
        pub id: Uuid,
        #[column(min = 0)]
        pub total: i32,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v3 {
    use ordinance::prelude::*;

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "invoices", history)]
    pub struct Invoice {
        pub id: Uuid,
        #[column(min = 0)]
        pub total: i32,
        #[column(max_len = 3)]
        pub currency: Option<String>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

pub mod v4 {
    use ordinance::prelude::*;

    #[derive(Entity, Debug, Clone)]
    #[entity(table = "invoices", history)]
    pub struct Invoice {
        pub id: Uuid,
        #[column(min = 0, renamed_from = "total")]
        pub amount: i32,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

#[tokio::test]
async fn a_renamed_column_is_renamed_in_the_history_too() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v2::Invoice::SCHEMA], &*dir, "invoices", none)
        .await
        .unwrap();
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    let invoice = Repo::new(&client)
        .insert(&v2::NewInvoice { total: 7 })
        .await
        .unwrap();
    // No drop and add (which would lose the history's values): renames.
    let steps = pending_steps(&[v4::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    let up = steps[0].up.join(";\n");
    assert!(
        up.contains("ALTER TABLE \"invoices\" RENAME COLUMN \"total\" TO \"amount\""),
        "{sql}"
    );
    assert!(
        up.contains("ALTER TABLE \"invoices_history\" RENAME COLUMN \"total\" TO \"amount\""),
        "{sql}"
    );
    assert!(!sql.contains("DROP COLUMN"), "{sql}");
    generate(&[v4::Invoice::SCHEMA], &*dir, "amount", none)
        .await
        .unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    let history = Repo::new(&client)
        .history::<v4::Invoice>(invoice.id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].row.amount, 7);
}

#[tokio::test]
async fn history_switched_on_then_grown_by_migrations() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v1::Invoice::SCHEMA], &*dir, "invoices", none)
        .await
        .unwrap();

    // History switched on: its table, function and trigger, in expand.
    let steps = pending_steps(&[v2::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    assert_eq!(steps.len(), 1, "{sql}");
    assert_eq!(steps[0].label, "expand", "{sql}");
    let up = steps[0].up.join(";\n");
    let table = up.find("CREATE TABLE \"invoices_history\"").expect(&sql);
    let function = up
        .find("CREATE OR REPLACE FUNCTION public.invoices_history_write()")
        .expect(&sql);
    let trigger = up
        .find("CREATE TRIGGER invoices_history AFTER INSERT OR DELETE OR UPDATE ON public.invoices")
        .expect(&sql);
    assert!(table < function && function < trigger, "{sql}");
    assert!(
        up.contains("\"history_id\" bigint GENERATED ALWAYS AS IDENTITY NOT NULL"),
        "{sql}"
    );
    generate(&[v2::Invoice::SCHEMA], &*dir, "history", none)
        .await
        .unwrap();
    assert!(pending_steps(&[v2::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap()
        .is_empty());

    // A new column: added to the history, the function replaced in place.
    let steps = pending_steps(&[v3::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap();
    let sql = render_steps(&steps);
    let expand = steps[0].up.join(";\n");
    assert!(
        expand.contains("ALTER TABLE \"invoices_history\" ADD COLUMN \"currency\" text"),
        "{sql}"
    );
    assert!(
        expand.contains("CREATE OR REPLACE FUNCTION public.invoices_history_write()"),
        "{sql}"
    );
    assert!(!expand.contains("DROP TRIGGER"), "{sql}");
    generate(&[v3::Invoice::SCHEMA], &*dir, "currency", none)
        .await
        .unwrap();

    // What the migrations build records every change, the new column too.
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    let repo = Repo::new(&client);
    let invoice = repo
        .insert(&v3::NewInvoice {
            total: 10,
            currency: Some("EUR".into()),
        })
        .await
        .unwrap();
    let mut changed = invoice.clone();
    changed.total = 12;
    repo.update(&changed).await.unwrap();
    let history = repo.history::<v3::Invoice>(invoice.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].row.total, 12);
    assert_eq!(history[1].row.currency.as_deref(), Some("EUR"));
    assert!(pending_steps(&[v3::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn history_switched_off_drops_its_trigger_then_its_table_and_function() {
    let dir = Folder::new();
    let none = Permissions::default();
    generate(&[v2::Invoice::SCHEMA], &*dir, "invoices", none)
        .await
        .unwrap();
    // Dropping the history is destructive: asked for.
    let err = pending_steps(&[v1::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invoices_history"), "{err}");
    let drops = Permissions {
        allow_destructive: true,
    };
    generate(&[v1::Invoice::SCHEMA], &*dir, "no_history", drops)
        .await
        .unwrap();
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    Migrations::load(&*dir)
        .unwrap()
        .contract(&mut client)
        .await
        .unwrap();
    let left = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class WHERE relname = 'invoices_history') \
                  + (SELECT count(*) FROM pg_proc WHERE proname = 'invoices_history_write') \
                  + (SELECT count(*) FROM pg_trigger WHERE tgname = 'invoices_history')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(left.get::<_, i64>(0), 0);
    assert!(pending_steps(&[v1::Invoice::SCHEMA], &*dir, none)
        .await
        .unwrap()
        .is_empty());
    // And back down, the history and its trigger restored.
    Migrations::load(&*dir)
        .unwrap()
        .down_to(&mut client, 0)
        .await
        .unwrap();
}
