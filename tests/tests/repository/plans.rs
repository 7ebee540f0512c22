//! The plans of the kit's own reads, checked with `testing::Explain`: every
//! declared keyset order pages through its index without sorting, every
//! relation load (children, parents, many-to-many; live rows and all rows)
//! looks rows up by an index, and scoped selects and joins with a key
//! condition read no table in full.

use std::collections::BTreeSet;

use ordinance::deps::sea_query::{Expr, ExprTrait as _};
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::query::{self, Visibility};
use ordinance::relation::{join_children, join_parent, ChildrenOf, ParentOf};
use ordinance::repo::Repo;
use ordinance::testing::{Expect, Explain, Plan};
use ordinance::{Json, TableSchema};
use ordinance_tests::*;

struct World {
    organizations: Vec<Organization>,
    users: Vec<User>,
    groups: Vec<Group>,
    tasks: Vec<Task>,
    invoices: Vec<Invoice>,
    events: Vec<AuditEvent>,
    task_groups: Vec<TaskGroup>,
}

async fn world(conn: &ordinance::exec::Connection) -> World {
    let repo = Repo::new(conn);
    let org = repo.insert(&new_organization("plans")).await.expect("org");
    let mut users = Vec::new();
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        users.push(repo.insert(&new_user(org.id, email)).await.expect("user"));
    }
    let group = repo
        .insert(&NewGroup {
            organization_id: org.id,
            name: "g".into(),
        })
        .await
        .expect("group");
    let parent = repo
        .insert(&new_task(org.id, "parent"))
        .await
        .expect("task");
    let mut tasks = vec![parent.clone()];
    for (i, status) in [TaskStatus::Todo, TaskStatus::Done].into_iter().enumerate() {
        let mut task = new_task(org.id, &format!("child {i}"));
        task.parent_id = Some(parent.id);
        task.assignee_id = Some(users[i].id);
        task.status = status;
        tasks.push(repo.insert(&task).await.expect("task"));
    }
    let invoice = repo
        .insert(&NewInvoice {
            organization_id: org.id,
            amount: "10.00".parse().expect("decimal"),
            fx_rate: None,
            currency: "EUR".into(),
            has_been_paid: false,
            lines: Json(serde_json::json!([])),
            billing_account_id: Uuid::new_v4(),
        })
        .await
        .expect("invoice");
    let event = repo
        .insert(&NewAuditEvent {
            actor_id: users[0].id,
            action: "plan".into(),
            latency_ms: None,
            payload: serde_json::json!({}),
        })
        .await
        .expect("event");
    let link = repo
        .insert(&NewTaskGroup {
            task_id: tasks[1].id,
            group_id: group.id,
        })
        .await
        .expect("link");
    World {
        organizations: vec![org],
        users,
        groups: vec![group],
        tasks,
        invoices: vec![invoice],
        events: vec![event],
        task_groups: vec![link],
    }
}

/// Rows generated into every table (so the planner sees tables of that
/// size), and an executor that explains.
async fn explainer(db: &ordinance::testing::TestDatabase) -> Explain {
    let conn = db.connect().await.expect("connect");
    ordinance::testing::fill(&conn, &all_schemas(), ROWS)
        .await
        .expect("fill");
    Explain::new(conn).await.expect("explain")
}

const ROWS: u32 = 5_000;

/// Some node looks rows up with an index whose first column is `column`.
fn assert_leading_index(plan: &Plan, table: &TableSchema, column: &str) {
    let leading: Vec<&str> = table
        .indexes
        .iter()
        .filter(|i| i.columns.first().is_some_and(|c| c.name == column))
        .map(|i| i.name)
        .collect();
    assert!(
        plan.nodes()
            .iter()
            .any(|n| n.index_cond.is_some()
                && n.index.as_deref().is_some_and(|i| leading.contains(&i))),
        "expected a lookup through an index leading with {}.{column} ({leading:?})\n{plan}",
        table.name
    );
}

#[derive(Default)]
struct Covered(BTreeSet<(&'static str, &'static str)>);

impl Covered {
    /// Loads the children of `parents` through `via`, live and with
    /// deleted rows: each load looks the children up by an index leading
    /// with the foreign key.
    async fn children<P, R>(&mut self, explain: &Explain, parents: &[P], via: R)
    where
        P: ordinance::Entity,
        R: ChildrenOf<P> + Copy,
        R::Child: ordinance::Entity,
    {
        let child = <R::Child as ordinance::Entity>::SCHEMA;
        let relation = via.relation();
        for scope in [Visibility::Live, Visibility::WithDeleted] {
            let loaded = Repo::new(explain)
                .children(parents, relation.visibility(scope))
                .await
                .expect("explained");
            assert!(loaded.is_empty(), "an explained load returns nothing");
            let plan = explain.last().expect("the load's plan");
            plan.assert_no_full_scan(child.name);
            assert_leading_index(&plan, child, relation.column());
        }
        self.0.insert((child.name, relation.column()));
    }

    /// Loads the parents of `children` through `via`: by primary key.
    async fn parents<C, R>(&mut self, explain: &Explain, children: &[C], via: R)
    where
        C: ordinance::Entity,
        R: ParentOf<C> + Copy,
        R::Parent: ordinance::Entity,
    {
        let parent = <R::Parent as ordinance::Entity>::SCHEMA;
        Repo::new(explain)
            .parents(children, via)
            .await
            .expect("explained");
        explain.last().expect("the load's plan").assert(&[
            Expect::NoFullScan(parent.name),
            Expect::Index(parent.primary_key),
        ]);
    }
}

#[tokio::test]
async fn every_relation_load_looks_rows_up_by_an_index() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let w = world(&conn).await;
    let explain = explainer(&db).await;
    let mut covered = Covered::default();

    covered
        .children(&explain, &w.organizations, User::ORGANIZATION)
        .await;
    covered
        .children(&explain, &w.organizations, Group::ORGANIZATION)
        .await;
    covered
        .children(&explain, &w.organizations, Task::ORGANIZATION)
        .await;
    covered
        .children(&explain, &w.organizations, Invoice::ORGANIZATION)
        .await;
    covered.children(&explain, &w.users, Task::ASSIGNEE).await;
    covered.children(&explain, &w.tasks, Task::PARENT).await;
    covered
        .children(&explain, &w.users, AuditEvent::ACTOR)
        .await;
    covered.children(&explain, &w.tasks, TaskGroup::TASK).await;
    covered
        .children(&explain, &w.groups, TaskGroup::GROUP)
        .await;

    covered
        .parents(&explain, &w.users, User::ORGANIZATION)
        .await;
    covered
        .parents(&explain, &w.groups, Group::ORGANIZATION)
        .await;
    covered
        .parents(&explain, &w.tasks, Task::ORGANIZATION)
        .await;
    covered
        .parents(&explain, &w.invoices, Invoice::ORGANIZATION)
        .await;
    covered.parents(&explain, &w.tasks, Task::ASSIGNEE).await;
    covered.parents(&explain, &w.tasks, Task::PARENT).await;
    covered
        .parents(&explain, &w.events, AuditEvent::ACTOR)
        .await;
    covered
        .parents(&explain, &w.task_groups, TaskGroup::TASK)
        .await;
    covered
        .parents(&explain, &w.task_groups, TaskGroup::GROUP)
        .await;

    // Many-to-many through the join entity, both ways: the join rows by
    // their foreign key's index, the far side by primary key.
    let repo = Repo::new(&explain);
    repo.related(&w.tasks, TaskGroup::TASK, TaskGroup::GROUP)
        .await
        .expect("explained");
    let plan = explain.last().expect("plan");
    plan.assert(&[
        Expect::NoFullScan("task_groups"),
        Expect::NoFullScan("groups"),
    ]);
    assert_leading_index(&plan, TaskGroup::SCHEMA, "task_id");
    repo.related(&w.groups, TaskGroup::GROUP, TaskGroup::TASK)
        .await
        .expect("explained");
    let plan = explain.last().expect("plan");
    plan.assert(&[
        Expect::NoFullScan("task_groups"),
        Expect::NoFullScan("tasks"),
    ]);
    assert_leading_index(&plan, TaskGroup::SCHEMA, "group_id");

    // Every foreign key of the schema was loaded: a new one without a
    // load above fails here.
    let every: BTreeSet<(&str, &str)> = all_schemas()
        .iter()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t.name, fk.column)))
        .collect();
    assert_eq!(covered.0, every, "relations without a plan test");
}

/// Every declared order of `E`: the first page, the last page, and the
/// pages after and before a cursor are read through the order's index,
/// without a sort and without reading the table in full.
async fn every_order<E: ordinance::Entity + Send + Sync>(
    conn: &ordinance::exec::Connection,
    explain: &Explain,
) -> usize {
    let schema = E::SCHEMA;
    use ordinance::KeysetOrder as _;
    assert_eq!(E::Order::ALL.len(), schema.keysets.len());
    for &order in E::Order::ALL {
        let keyset = schema.keysets[order.position()];
        let index = schema
            .keyset_index(keyset)
            .unwrap_or_else(|| panic!("no index serves {}'s order {order:?}", schema.name))
            .name;
        let pager = Pager::<E>::new()
            .map(|p| p.order(order))
            .and_then(|p| p.size(1))
            .expect("pager");
        let real = Repo::new(conn);
        let first = real.first_page(&pager).await.expect("first page");
        let next = first.next.clone().expect("a second page");
        let second = real.page_at(&pager, &next).await.expect("second page");
        let previous = second.previous.clone().expect("a previous page");

        let explained = Repo::new(explain);
        explained.first_page(&pager).await.expect("explained");
        explained.last_page(&pager).await.expect("explained");
        explained.page_at(&pager, &next).await.expect("explained");
        explained
            .page_at(&pager, &previous)
            .await
            .expect("explained");
        let plans = explain.take();
        assert_eq!(plans.len(), 4);
        for plan in plans {
            plan.assert(&[
                Expect::Index(index),
                Expect::NoSort,
                Expect::NoFullScan(schema.name),
            ]);
        }
    }
    schema.keysets.len()
}

#[tokio::test]
async fn every_keyset_order_pages_through_its_index_without_sorting() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    world(&conn).await;
    let explain = explainer(&db).await;
    let checked = every_order::<User>(&conn, &explain).await
        + every_order::<Task>(&conn, &explain).await
        + every_order::<Organization>(&conn, &explain).await
        + every_order::<Group>(&conn, &explain).await
        + every_order::<Invoice>(&conn, &explain).await
        + every_order::<AuditEvent>(&conn, &explain).await
        + every_order::<TaskGroup>(&conn, &explain).await;
    let declared: usize = all_schemas().iter().map(|t| t.keysets.len()).sum();
    assert_eq!(checked, declared);
    assert!(declared >= 2);
}

#[tokio::test]
async fn scoped_selects_and_joins_with_a_key_condition_read_by_index() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    let w = world(&conn).await;
    let explain = explainer(&db).await;
    let repo = Repo::new(&explain);
    let org = w.organizations[0].id;

    let select = query::live::<Task>()
        .and_where(Expr::col(TaskColumn::OrganizationId).eq(org))
        .to_owned();
    repo.list::<Task>(&select).await.expect("explained");
    explain.last().expect("plan").assert(&[
        Expect::NoFullScan("tasks"),
        Expect::Index("idx_tasks_organization_id_due_on"),
    ]);

    repo.get::<User>(w.users[0].id)
        .await
        .expect_err("nothing is returned");
    explain
        .last()
        .expect("plan")
        .assert(&[Expect::Index("users_pkey"), Expect::NoFullScan("users")]);

    let joined = join_children(User::ORGANIZATION)
        .filter(Expr::col((Organization::TABLE, OrganizationColumn::Id)).eq(org));
    repo.list_joined(&joined).await.expect("explained");
    explain.last().expect("plan").assert(&[
        Expect::NoFullScan("organizations"),
        Expect::NoFullScan("users"),
    ]);

    let joined = join_parent(Task::ASSIGNEE)
        .filter(Expr::col((Task::TABLE, TaskColumn::OrganizationId)).eq(org));
    repo.list_joined(&joined).await.expect("explained");
    explain
        .last()
        .expect("plan")
        .assert(&[Expect::NoFullScan("tasks"), Expect::NoFullScan("users")]);
}

#[tokio::test]
async fn a_select_no_index_serves_fails_naming_the_scan_and_showing_the_plan() {
    let db = fixture_database().await;
    let conn = db.connect().await.expect("connect");
    world(&conn).await;
    let explain = explainer(&db).await;
    let select = query::live::<Task>()
        .and_where(Expr::col(TaskColumn::Title).eq("parent"))
        .to_owned();
    Repo::new(&explain)
        .list::<Task>(&select)
        .await
        .expect("explained");
    let plan = explain.last().expect("plan");
    let violation = plan
        .check(&[Expect::NoFullScan("tasks")])
        .expect_err(&format!("no index on title, yet\n{plan}"));
    let message = violation.to_string();
    // The scan that reads the table whole (a sequential scan, or with
    // sequential scans off, a walk of a whole index) is named, with the
    // filter it applies, and the statement and plan follow.
    assert!(
        message.starts_with("expected no full read of `tasks`, but the plan has `"),
        "{message}"
    );
    assert!(
        message.contains(" on tasks (Filter: (title = $1))` (under "),
        "{message}"
    );
    assert!(message.contains("\nstatement: SELECT "), "{message}");
    assert!(message.contains("\nplan:\n  -> "), "{message}");
    // The generic plan never saw the value.
    assert!(!message.contains("'parent'"), "{message}");
}
