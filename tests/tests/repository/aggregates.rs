//! Aggregates: `#[entity(aggregate_root)]` and `#[column(references = Root,
//! aggregate)]` on a real PostgreSQL, as the application role through a
//! `Cluster`: every write to a child — insert, update, patch, soft delete,
//! restore, a bulk change, hand-written SQL, purge — bumps the root's
//! `version` and `updated_at` in the same transaction; two writers holding
//! equally stale copies of the aggregate: the second gets `StaleVersion`
//! from `lock_aggregate` before it writes anything.

use std::time::Duration;

use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::ddl::SchemaDdl;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::testing::TestDatabase;
use ordinance::Error;
use ordinance_tests::least_privilege_roles;

/// An order: its lines are part of it.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(aggregate_root)]
pub struct Order {
    pub id: Uuid,
    #[column(max_len = 100)]
    pub customer: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A line of an order.
#[derive(Entity, Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub id: Uuid,
    #[column(references = Order, aggregate, on_delete = "cascade")]
    pub order_id: Uuid,
    #[column(min = 1)]
    pub quantity: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A tenant's basket, an aggregate root under row-level security.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant, aggregate_root)]
pub struct Basket {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// An item of a basket, the tenant's too.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(tenant)]
pub struct BasketItem {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(references = Basket, aggregate, on_delete = "cascade")]
    pub basket_id: Uuid,
    #[column(max_len = 50)]
    pub sku: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn setup() -> (TestDatabase, Cluster) {
    let schemas = [
        Order::SCHEMA,
        OrderLine::SCHEMA,
        Basket::SCHEMA,
        BasketItem::SCHEMA,
    ];
    let db = TestDatabase::with_schema(&SchemaDdl::new(&schemas).unwrap().up())
        .await
        .unwrap();
    let (app, _) = least_privilege_roles(&db, &schemas, false).await;
    let mut config = db.config().clone();
    config.user(&app);
    let pool = Pool::connect(
        config,
        PoolOptions {
            max_size: 4,
            acquire_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    (
        db,
        Cluster::new(pool, Vec::new(), ClusterOptions::default()).unwrap(),
    )
}

#[tokio::test]
async fn every_write_to_a_child_bumps_the_root() {
    let (db, app) = setup().await;
    let repo = app.repo();
    let order = repo
        .insert(&NewOrder {
            customer: "Ada".into(),
        })
        .await
        .unwrap();
    assert_eq!(order.version, 1);
    let version = async || repo.get::<Order>(order.id).await.unwrap().version;

    let line = repo
        .insert(&NewOrderLine {
            order_id: order.id,
            quantity: 1,
        })
        .await
        .unwrap();
    assert_eq!(version().await, 2, "insert");
    let mut changed = line.clone();
    changed.quantity = 2;
    let line = repo.update(&changed).await.unwrap();
    assert_eq!(version().await, 3, "update");
    let line = repo
        .patch(
            line.id,
            line.version,
            &OrderLinePatch {
                quantity: Some(3),
                ..OrderLinePatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(version().await, 4, "patch");
    let line = repo.soft_delete(&line).await.unwrap();
    assert_eq!(version().await, 5, "soft delete");
    repo.restore(&line).await.unwrap();
    assert_eq!(version().await, 6, "restore");
    ordinance::bulk::Bulk::<OrderLine>::new()
        .filter(Expr::col(OrderLineColumn::OrderId).eq(order.id))
        .update(&app, [(OrderLineColumn::Quantity, 4)])
        .await
        .unwrap();
    assert_eq!(version().await, 7, "bulk");
    let owner = db.connect().await.unwrap();
    owner
        .execute(
            "UPDATE order_lines SET quantity = 5 WHERE id = $1",
            &[&line.id],
        )
        .await
        .unwrap();
    assert_eq!(version().await, 8, "hand-written SQL");
    assert!(repo.purge::<OrderLine>(line.id).await.unwrap());
    let after = repo.get::<Order>(order.id).await.unwrap();
    assert_eq!(after.version, 9, "purge");
    assert!(after.updated_at > order.updated_at);
}

#[tokio::test]
async fn two_stale_copies_the_second_writer_is_refused() {
    let (_db, app) = setup().await;
    let repo = app.repo();
    let order = repo
        .insert(&NewOrder {
            customer: "Grace".into(),
        })
        .await
        .unwrap();
    let first = repo
        .insert(&NewOrderLine {
            order_id: order.id,
            quantity: 1,
        })
        .await
        .unwrap();
    let second = repo
        .insert(&NewOrderLine {
            order_id: order.id,
            quantity: 1,
        })
        .await
        .unwrap();
    // Both writers read the aggregate as it is now.
    let seen = repo.get::<Order>(order.id).await.unwrap();
    assert_eq!(seen.version, 3);

    let (a_order, a_line) = (seen.clone(), first.clone());
    let a = app.clone();
    let writer_a = tokio::spawn(async move {
        a.transaction(async |tx| {
            let repo = ordinance::repo::Repo::new(&*tx);
            repo.lock_aggregate(&a_order).await?;
            let mut line = a_line.clone();
            line.quantity = 10;
            repo.update(&line).await?;
            // Still holding the root when the other writer comes.
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(())
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (b_order, b_line) = (seen.clone(), second.clone());
    let b = app
        .transaction(async |tx| {
            let repo = ordinance::repo::Repo::new(&*tx);
            repo.lock_aggregate(&b_order).await?;
            let mut line = b_line.clone();
            line.quantity = 20;
            repo.update(&line).await?;
            Ok(())
        })
        .await;
    writer_a.await.unwrap().unwrap();
    match b {
        Err(Error::StaleVersion {
            table: "orders",
            expected: 3,
            actual: 4,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // The second writer wrote nothing.
    assert_eq!(repo.get::<OrderLine>(second.id).await.unwrap().quantity, 1);
    assert_eq!(repo.get::<OrderLine>(first.id).await.unwrap().quantity, 10);
    assert_eq!(repo.get::<Order>(order.id).await.unwrap().version, 4);
}

#[tokio::test]
async fn lock_aggregate_wants_a_root() {
    let (_db, app) = setup().await;
    let line = OrderLine {
        id: Uuid::now_v7(),
        order_id: Uuid::now_v7(),
        quantity: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        deleted_at: None,
        version: 1,
    };
    let err = app
        .transaction(async |tx| {
            ordinance::repo::Repo::new(&*tx)
                .lock_aggregate(&line)
                .await
                .map(|_| ())
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"order_lines\" is not an aggregate root"),
        "{err}"
    );
}

#[tokio::test]
async fn a_tenants_child_writes_bump_its_root_under_row_level_security() {
    let (_db, app) = setup().await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let mine = app.for_tenant(a);
    let basket = mine.repo().insert(&NewBasket {}).await.unwrap();
    // A batch of items in the tenant's transaction: one bump each.
    let items: Vec<NewBasketItem> = (0..3)
        .map(|i| NewBasketItem {
            basket_id: basket.id,
            sku: format!("sku-{i}"),
        })
        .collect();
    mine.transaction(async |tx| ordinance::batch::insert_many(tx, &items).await)
        .await
        .unwrap();
    assert_eq!(
        mine.repo().get::<Basket>(basket.id).await.unwrap().version,
        4
    );
    // Another tenant sees neither the basket nor its bumps.
    assert!(app
        .for_tenant(b)
        .repo()
        .find::<Basket>(basket.id)
        .await
        .unwrap()
        .is_none());
}
