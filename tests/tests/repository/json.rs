//! Typed JSONB access on a real PostgreSQL: fields as text, numbers and
//! booleans, containment, key existence and merging in updates, on
//! `serde_json::Value` and `Json<T>` columns; an expression index on a
//! field, used by a filter on it (checked with EXPLAIN).

use std::collections::BTreeMap;

use ordinance::deps::sea_query::{Expr, ExprTrait as _, PostgresQueryBuilder};
use ordinance::prelude::*;
use ordinance::query::json::json;
use ordinance::repo::Repo;
use ordinance::testing::{Expect, Explain, TestDatabase};
use ordinance::{Error, Json};
use serde_json::json as doc;

/// Language-model agents and their settings.
#[derive(Entity, Debug, Clone)]
#[entity(
    index(json(configuration, "max_tokens") as i32),
    index(json(configuration, "model")),
    index(configuration, using = "gin")
)]
pub struct Agent {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub name: String,
    pub configuration: serde_json::Value,
    pub limits: Json<BTreeMap<String, i64>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn agent(i: i64) -> NewAgent {
    let mut configuration = doc!({
        "model": if i % 4 == 0 { "gpt-4" } else { "small" },
        "temperature": (i % 10) as f64 / 10.0,
        "max_tokens": i * 10,
        "stream": i % 2 == 0,
        "limits": { "daily": i * 100 },
    });
    if i % 5 == 0 {
        configuration["top_p"] = doc!(0.5);
    }
    NewAgent {
        name: format!("agent {i}"),
        configuration,
        limits: Json(BTreeMap::from([("daily".to_owned(), i)])),
    }
}

#[test]
fn a_field_index_is_rendered_as_the_filter_writes_it() {
    let ddl = ordinance::ddl::create_table(Agent::SCHEMA);
    for index in [
        "CREATE INDEX \"idx_agents_configuration_max_tokens\" ON \"agents\" (((\"configuration\" ->> 'max_tokens')::INTEGER)) WHERE \"deleted_at\" IS NULL;",
        "CREATE INDEX \"idx_agents_configuration_model\" ON \"agents\" ((\"configuration\" ->> 'model')) WHERE \"deleted_at\" IS NULL;",
    ] {
        assert!(ddl.contains(index), "missing {index} in\n{ddl}");
    }
    let config = json(AgentColumn::Configuration);
    let mut select = ordinance::query::live::<Agent>();
    select
        .and_where(config.field("max_tokens").as_i32().gt(400))
        .and_where(config.path(&["limits", "daily"]).as_i64().lt(5))
        .and_where(config.field("it's").text().eq("x"));
    let (sql, values) = select.build(PostgresQueryBuilder);
    assert!(
        sql.contains("(((\"configuration\" ->> 'max_tokens')::INTEGER)) > $1"),
        "{sql}"
    );
    assert!(
        sql.contains("(((\"configuration\" -> 'limits' ->> 'daily')::BIGINT)) < $2"),
        "{sql}"
    );
    // A key is a quoted literal; the compared values are parameters.
    assert!(
        sql.contains("((\"configuration\" ->> 'it''s')) = $3"),
        "{sql}"
    );
    assert_eq!(values.0.len(), 3);
}

async fn count(repo: &Repo<'_, ordinance::exec::Connection>, condition: Expr) -> usize {
    let mut select = ordinance::query::live::<Agent>();
    select.and_where(condition);
    repo.list::<Agent>(&select).await.expect("list").len()
}

#[tokio::test]
async fn fields_containment_keys_and_merges_run_on_postgres() {
    let db = TestDatabase::with_entities(&[Agent::SCHEMA])
        .await
        .expect("db");
    let mut conn = db.connect().await.expect("connect");
    let rows: Vec<NewAgent> = (1..=100).map(agent).collect();
    ordinance::batch::insert_many_count(&mut conn, &rows)
        .await
        .expect("agents");
    let repo = Repo::new(&conn);
    let config = json(AgentColumn::Configuration);

    // Text, typed numbers, booleans, nested fields.
    assert_eq!(
        count(&repo, config.field("model").text().eq("gpt-4")).await,
        25
    );
    assert_eq!(
        count(&repo, config.field("max_tokens").as_i32().gt(400)).await,
        60
    );
    assert_eq!(
        count(&repo, config.field("max_tokens").as_i64().lte(100_i64)).await,
        10
    );
    assert_eq!(
        count(&repo, config.field("max_tokens").as_i16().eq(50_i16)).await,
        1
    );
    assert_eq!(
        count(
            &repo,
            config
                .field("temperature")
                .as_decimal()
                .gte("0.8".parse::<Decimal>().expect("decimal"))
        )
        .await,
        20
    );
    assert_eq!(
        count(&repo, config.field("stream").as_bool().eq(true)).await,
        50
    );
    assert_eq!(
        count(
            &repo,
            config.path(&["limits", "daily"]).as_i64().gte(9_000_i64)
        )
        .await,
        11
    );
    assert_eq!(
        count(
            &repo,
            config.field("limits").field("daily").as_i64().eq(500_i64)
        )
        .await,
        1
    );
    assert_eq!(
        count(&repo, config.field("limits").contains(doc!({"daily": 700}))).await,
        1
    );
    assert_eq!(count(&repo, config.field("top_p").is_present()).await, 20);
    // The `Json<T>` column reads the same way.
    assert_eq!(
        count(
            &repo,
            json(AgentColumn::Limits)
                .field("daily")
                .as_i64()
                .between(10_i64, 19_i64)
        )
        .await,
        10
    );

    // Containment and key existence.
    assert_eq!(
        count(
            &repo,
            config.contains(doc!({"model": "gpt-4", "stream": true}))
        )
        .await,
        25
    );
    assert_eq!(count(&repo, config.has_key("top_p")).await, 20);
    assert_eq!(
        count(&repo, config.has_any_key(["top_p", "missing"])).await,
        20
    );
    assert_eq!(
        count(&repo, config.has_all_keys(["top_p", "missing"])).await,
        0
    );
    // A key is a value: one that reads like SQL is only a key.
    assert_eq!(count(&repo, config.has_key("x' OR true --")).await, 0);

    // Merging in an update, through the bulk path: keys added, others kept,
    // versions bumped.
    let progress = ordinance::bulk::Bulk::<Agent>::new()
        .filter(config.field("model").text().eq("gpt-4"))
        .update(
            &conn,
            vec![(
                AgentColumn::Configuration,
                config.merge(doc!({"top_p": 0.9, "temperature": 0})),
            )],
        )
        .await
        .expect("merge");
    assert_eq!(progress.rows, 25);
    let mut select = ordinance::query::live::<Agent>();
    select.and_where(config.field("model").text().eq("gpt-4"));
    let merged = repo.list::<Agent>(&select).await.expect("merged");
    for a in &merged {
        assert_eq!(a.configuration["top_p"], doc!(0.9));
        assert_eq!(a.configuration["temperature"], doc!(0));
        assert_eq!(a.configuration["stream"], doc!(true), "other keys kept");
        assert_eq!(a.version, 2);
    }
    let progress = ordinance::bulk::Bulk::<Agent>::new()
        .filter(config.has_key("top_p"))
        .update(
            &conn,
            vec![(AgentColumn::Configuration, config.remove_key("top_p"))],
        )
        .await
        .expect("remove");
    assert_eq!(progress.rows, 25 + 15);
    assert_eq!(count(&repo, config.has_key("top_p")).await, 0);

    // A field that is not a number fails the statement with a typed error.
    let err = repo
        .list::<Agent>(&{
            let mut s = ordinance::query::live::<Agent>();
            s.and_where(config.field("model").as_i32().eq(1));
            s
        })
        .await
        .expect_err("not a number");
    assert!(
        matches!(err, ordinance::Error::InvalidValue { .. }),
        "{err:?}"
    );
}

/// The `as i32` index is computed for every row written, so it holds the
/// documents to its type, as the guide says: a key that is not an
/// integer fails the write; a missing key or `null` passes.
#[tokio::test]
async fn a_typed_field_index_refuses_documents_its_cast_fails_on() {
    let db = TestDatabase::with_entities(&[Agent::SCHEMA])
        .await
        .expect("db");
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    let with = |max_tokens: serde_json::Value| NewAgent {
        configuration: doc!({ "max_tokens": max_tokens }),
        ..agent(1)
    };
    for bad in [doc!("lots"), doc!(1.5), doc!(3_000_000_000_i64)] {
        let err = repo.insert(&with(bad.clone())).await.unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{bad}: {err:?}");
    }
    repo.insert(&with(doc!(null)))
        .await
        .expect("null indexes as NULL");
    repo.insert(&NewAgent {
        configuration: doc!({}),
        ..agent(2)
    })
    .await
    .expect("a missing key indexes as NULL");
    assert_eq!(repo.count::<Agent>().await.unwrap(), 2);
}

#[tokio::test]
async fn a_filter_on_an_indexed_field_uses_its_index() {
    let db = TestDatabase::with_entities(&[Agent::SCHEMA])
        .await
        .expect("db");
    let conn = db.connect().await.expect("connect");
    let mut conn = conn;
    let rows: Vec<NewAgent> = (1..=5_000).map(agent).collect();
    ordinance::batch::insert_many_count(&mut conn, &rows)
        .await
        .expect("agents");
    conn.batch_execute("ANALYZE agents").await.expect("analyze");
    // (Containment through the GIN index on the whole column is checked
    // with the other index kinds in tests/indexes.rs.)
    let config = json(AgentColumn::Configuration);
    // Field filters use their expression indexes even in a generic plan
    // (the value unknown), as a prepared statement reused many times gets.
    let explain = Explain::new(conn).await.expect("explain");
    let repo = Repo::new(&explain);
    for (condition, index) in [
        (
            config.field("max_tokens").as_i32().gt(49_000),
            "idx_agents_configuration_max_tokens",
        ),
        (
            config.field("model").text().eq("gpt-4"),
            "idx_agents_configuration_model",
        ),
    ] {
        let mut select = ordinance::query::live::<Agent>();
        select.and_where(condition);
        repo.list::<Agent>(&select).await.expect("explained");
        explain
            .last()
            .expect("plan")
            .assert(&[Expect::NoFullScan("agents"), Expect::Index(index)]);
    }
}

#[tokio::test]
async fn field_indexes_migrate_and_stay_in_sync() {
    let (_db, client) = ordinance_tests::migrated_in_sync(&[Agent::SCHEMA], "agents").await;
    let defs: Vec<String> = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'agents' ORDER BY indexname",
            &[],
        )
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        defs.iter()
            .any(|d| d.contains("(((configuration ->> 'max_tokens'::text))::integer)")),
        "{defs:#?}"
    );
}
