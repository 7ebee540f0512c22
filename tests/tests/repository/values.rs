//! Values as users write them, on a real PostgreSQL: enums wherever
//! sea-query takes a value, array columns of every scalar type (with and
//! without NULL elements) through every path, and money that is refused
//! rather than silently rounded.

use ordinance::deps::sea_query::{Expr, ExprTrait, Query};
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::query::array::array;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{Error, Rule};
use std::str::FromStr;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    Open,
    InReview,
    Closed,
}

/// Support tickets.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(status, created_at desc, id desc))]
pub struct Ticket {
    pub id: Uuid,
    #[column(max_len = 80)]
    pub title: String,
    pub status: TicketStatus,
    pub previous_status: Option<TicketStatus>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn ticket(title: &str, status: TicketStatus) -> NewTicket {
    NewTicket {
        title: title.into(),
        status,
        previous_status: None,
    }
}

#[tokio::test]
async fn enums_are_values_in_filters_lists_updates_and_pages() {
    let db = TestDatabase::with_entities(&[Ticket::SCHEMA])
        .await
        .expect("db");
    let mut client = db.connect().await.expect("connect");
    let statuses = [
        TicketStatus::Open,
        TicketStatus::InReview,
        TicketStatus::Closed,
    ];
    let rows: Vec<NewTicket> = (0..30)
        .map(|i| ticket(&format!("t{i}"), statuses[i % 3]))
        .collect();
    ordinance::batch::insert_many_count(&mut client, &rows)
        .await
        .expect("rows");
    let repo = Repo::new(&client);

    // Equality, as the guidelines write it.
    let mut select = ordinance::query::live::<Ticket>();
    select.and_where(Expr::col(TicketColumn::Status).eq(TicketStatus::InReview));
    let in_review = repo.list::<Ticket>(&select).await.expect("eq");
    assert_eq!(in_review.len(), 10);
    assert!(in_review.iter().all(|t| t.status == TicketStatus::InReview));

    // An IN list.
    let mut select = ordinance::query::live::<Ticket>();
    select.and_where(
        Expr::col(TicketColumn::Status).is_in([TicketStatus::Open, TicketStatus::Closed]),
    );
    assert_eq!(repo.list::<Ticket>(&select).await.expect("in").len(), 20);

    // NULL through `Option<E>`.
    let mut select = ordinance::query::live::<Ticket>();
    select.and_where(Expr::col(TicketColumn::PreviousStatus).eq(Option::<TicketStatus>::None));
    assert!(repo.list::<Ticket>(&select).await.expect("null").is_empty());

    // An update setting enums, through the bulk path (caller's `SET`).
    let progress = ordinance::bulk::Bulk::<Ticket>::new()
        .filter(Expr::col(TicketColumn::Status).eq(TicketStatus::Open))
        .update(
            &client,
            vec![
                (TicketColumn::Status, Expr::val(TicketStatus::Closed)),
                (
                    TicketColumn::PreviousStatus,
                    Expr::val(Some(TicketStatus::Open)),
                ),
            ],
        )
        .await
        .expect("bulk update");
    assert_eq!(progress.rows, 10);
    let mut select = ordinance::query::live::<Ticket>();
    select.and_where(Expr::col(TicketColumn::PreviousStatus).eq(TicketStatus::Open));
    let moved = repo.list::<Ticket>(&select).await.expect("moved");
    assert_eq!(moved.len(), 10);
    assert!(moved.iter().all(|t| t.status == TicketStatus::Closed));
    // One set, the value as written.
    let progress = ordinance::bulk::Bulk::<Ticket>::new()
        .filter(Expr::col(TicketColumn::Title).eq("t1"))
        .update(&client, [(TicketColumn::Status, TicketStatus::Open)])
        .await
        .expect("bulk update with a value");
    assert_eq!(progress.rows, 1);

    // A hand-built update: the value is bound as text, like the column.
    let mut update = Query::update();
    update
        .table(ordinance::query::table_ref(Ticket::SCHEMA))
        .value(TicketColumn::Status, TicketStatus::Open)
        .and_where(Expr::col(TicketColumn::Title).eq("t1"));
    let (sql, values) = update.build(ordinance::deps::sea_query::PostgresQueryBuilder);
    assert!(!sql.contains("open"), "the value is bound: {sql}");
    let bound = ordinance::query::bind_values(values).expect("bind");
    assert_eq!(bound[0].1, tokio_postgres::types::Type::TEXT);
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        bound.iter().map(|(v, _)| &**v as _).collect();
    assert_eq!(client.execute(&sql, &params).await.expect("update"), 1);

    // Keyset pages led by the enum column, filtered by an enum: the
    // boundary of each page carries the enum value.
    let pager = Pager::<Ticket>::new()
        .expect("pager")
        .size(4)
        .expect("size")
        .filter(Expr::col(TicketColumn::Status).is_in([TicketStatus::Closed, TicketStatus::Open]));
    let mut page = repo.first_page(&pager).await.expect("first");
    let mut seen = Vec::new();
    loop {
        seen.extend(page.items.iter().map(|t| (t.status, t.id)));
        match page.next.clone() {
            Some(cursor) => page = repo.page_at(&pager, &cursor).await.expect("next"),
            None => break,
        }
    }
    // 20, and "t1", moved from in review to open by the update above.
    assert_eq!(seen.len(), 21);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        sorted.iter().map(|s| s.0).collect::<Vec<_>>(),
        "ordered by status first"
    );
    let distinct: std::collections::HashSet<_> = seen.iter().map(|s| s.1).collect();
    assert_eq!(distinct.len(), 21, "no row twice");
}

/// Readings of a sensor: one array column of each storable element type.
// `gin(column)`: two `using = "gin"` in one attribute would be reported
// by clippy's `duplicated_attributes`.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(index(gin(scores)), index(gin(owners)))]
pub struct Reading {
    pub id: Uuid,
    pub small: Vec<i16>,
    pub scores: Vec<i32>,
    pub counters: Vec<i64>,
    pub owners: Vec<Uuid>,
    #[column(precision = 10, scale = 2)]
    pub amounts: Vec<Decimal>,
    pub days: Vec<NaiveDate>,
    pub instants: Vec<DateTime<Utc>>,
    pub gaps: Vec<Option<i32>>,
    pub labels: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn reading(i: i32) -> NewReading {
    NewReading {
        small: vec![i as i16, -1],
        scores: vec![i, i + 1, i + 2],
        counters: vec![i64::from(i) * 10_000_000_000],
        owners: vec![Uuid::from_u128(i as u128)],
        amounts: vec![dec("12.50"), dec("-0.01")],
        days: vec![NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")],
        instants: vec![DateTime::from_timestamp(1_700_000_000 + i64::from(i), 0).expect("time")],
        gaps: vec![Some(i), None, Some(-i)],
        labels: (i % 2 == 0).then(|| vec!["even".to_owned()]),
    }
}

fn same_values(stored: &Reading, new: &NewReading) {
    assert_eq!(stored.small, new.small);
    assert_eq!(stored.scores, new.scores);
    assert_eq!(stored.counters, new.counters);
    assert_eq!(stored.owners, new.owners);
    assert_eq!(stored.amounts, new.amounts);
    assert_eq!(stored.days, new.days);
    assert_eq!(stored.instants, new.instants);
    assert_eq!(stored.gaps, new.gaps);
    assert_eq!(stored.labels, new.labels);
}

#[test]
fn array_columns_are_typed_and_empty_by_default() {
    let ddl = ordinance::ddl::create_table(Reading::SCHEMA);
    for line in [
        "\"small\" SMALLINT[] NOT NULL DEFAULT '{}'",
        "\"scores\" INTEGER[] NOT NULL DEFAULT '{}'",
        "\"counters\" BIGINT[] NOT NULL DEFAULT '{}'",
        "\"owners\" UUID[] NOT NULL DEFAULT '{}'",
        "\"amounts\" NUMERIC(10,2)[] NOT NULL DEFAULT '{}'",
        "\"days\" DATE[] NOT NULL DEFAULT '{}'",
        "\"instants\" TIMESTAMPTZ[] NOT NULL DEFAULT '{}'",
        "\"gaps\" INTEGER[] NOT NULL DEFAULT '{}'",
        "\"labels\" TEXT[],",
    ] {
        assert!(ddl.contains(line), "missing {line} in\n{ddl}");
    }
    // `Vec<T>` keeps NULL elements out; `Vec<Option<T>>` and
    // `Option<Vec<T>>`'s elements follow their type.
    for column in [
        "small", "scores", "counters", "owners", "amounts", "days", "instants", "labels",
    ] {
        let check = format!(
            "CONSTRAINT \"readings_{column}_no_nulls\" CHECK (array_position(\"{column}\", NULL) IS NULL)"
        );
        assert!(ddl.contains(&check), "missing {check} in\n{ddl}");
    }
    assert!(!ddl.contains("readings_gaps_no_nulls"), "{ddl}");
    for index in ["scores", "owners"] {
        let gin = format!(
            "CREATE INDEX \"idx_readings_{index}\" ON \"readings\" USING gin (\"{index}\") WHERE \"deleted_at\" IS NULL;"
        );
        assert!(ddl.contains(&gin), "missing {gin} in\n{ddl}");
    }
}

#[tokio::test]
async fn array_columns_round_trip_through_every_path() {
    let db = TestDatabase::with_entities(&[Reading::SCHEMA])
        .await
        .expect("db");
    let mut client = db.connect().await.expect("connect");

    // Single insert and get.
    let repo = Repo::new(&client);
    let new = reading(1);
    let stored = repo.insert(&new).await.expect("insert");
    same_values(&stored, &new);
    let got: Reading = repo.get(stored.id).await.expect("get");
    assert_eq!(got, stored);

    // Update.
    let mut changed = got.clone();
    changed.scores.push(99);
    changed.gaps = vec![None];
    changed.labels = None;
    let updated = repo.update(&changed).await.expect("update");
    assert_eq!(updated.scores, [1, 2, 3, 99]);
    assert_eq!(updated.gaps, [None]);
    assert_eq!(updated.labels, None);

    // Batches: binary COPY, with and without reading back.
    let rows: Vec<NewReading> = (2..500).map(reading).collect();
    let stored = ordinance::batch::insert_many(&mut client, &rows)
        .await
        .expect("insert_many");
    for (s, n) in stored.iter().zip(&rows) {
        same_values(s, n);
    }
    let more: Vec<NewReading> = (500..2_000).map(reading).collect();
    assert_eq!(
        ordinance::batch::insert_many_count(&mut client, &more)
            .await
            .expect("count"),
        1_500
    );

    // Builders: the sea-query insert binds each array at its type.
    let built = reading(7_000);
    let insert = ordinance::query::insert([(Uuid::now_v7(), &built)]).expect("builder");
    let (sql, values) = insert.build(ordinance::deps::sea_query::PostgresQueryBuilder);
    let bound = ordinance::query::bind_values(values).expect("bind");
    let types: Vec<_> = bound.iter().map(|(_, t)| t.clone()).collect();
    use tokio_postgres::types::Type;
    assert_eq!(
        &types[1..],
        [
            Type::INT2_ARRAY,
            Type::INT4_ARRAY,
            Type::INT8_ARRAY,
            Type::UUID_ARRAY,
            Type::NUMERIC_ARRAY,
            Type::DATE_ARRAY,
            Type::TIMESTAMPTZ_ARRAY,
            Type::INT4_ARRAY,
            Type::TEXT_ARRAY,
        ]
    );
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        bound.iter().map(|(v, _)| &**v as _).collect();
    let row = client.query_one(&sql, &params).await.expect("built insert");
    let from_builder = Reading::from_row(&row).expect("decode");
    same_values(&from_builder, &built);

    // Typed array filters, each value bound as an array of the element
    // type; containment uses the GIN index.
    let repo = Repo::new(&client);
    let count = |condition: Expr| {
        let repo = &repo;
        async move {
            let mut select = ordinance::query::live::<Reading>();
            select.and_where(condition);
            repo.list::<Reading>(&select).await.expect("array filter")
        }
    };
    let scores = array(ReadingColumn::Scores);
    let found = count(scores.contains([1500, 1502])).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].scores, [1500, 1501, 1502]);
    assert_eq!(
        count(scores.has(1501)).await.len(),
        3,
        "1499, 1500 and 1501"
    );
    assert_eq!(
        count(scores.overlaps([-5, 2])).await.len(),
        2,
        "rows 1 and 2"
    );
    assert_eq!(count(scores.contained_by([1, 2, 3, 4, 99])).await.len(), 2);
    assert_eq!(
        count(array(ReadingColumn::Owners).has(Uuid::from_u128(7)))
            .await
            .len(),
        1
    );
    assert_eq!(
        count(array(ReadingColumn::Amounts).has(dec("12.5")))
            .await
            .len(),
        2_000,
        "every row holds 12.50"
    );
    assert_eq!(
        count(array(ReadingColumn::Labels).has("even")).await.len(),
        1_000
    );
    // Lists of `&str` bind as `TEXT[]`, as `has` does.
    let labels = array(ReadingColumn::Labels);
    assert_eq!(count(labels.overlaps(["odd", "even"])).await.len(), 1_000);
    assert_eq!(count(labels.contains(["even"])).await.len(), 1_000);
    assert_eq!(count(labels.contained_by(["odd"])).await.len(), 0);
    assert_eq!(
        count(scores.length().eq(4)).await.len(),
        1,
        "the updated row"
    );
    // Appending and removing in a bulk update.
    let progress = ordinance::bulk::Bulk::<Reading>::new()
        .filter(scores.has(1501))
        .update(
            &client,
            vec![
                (ReadingColumn::Scores, scores.append([8_000, 8_001])),
                (
                    ReadingColumn::Labels,
                    array(ReadingColumn::Labels).remove("even"),
                ),
            ],
        )
        .await
        .expect("append");
    assert_eq!(progress.rows, 3);
    let appended = count(scores.contains([8_000, 8_001])).await;
    assert_eq!(appended.len(), 3);
    assert!(appended.iter().all(|r| r.scores.ends_with(&[8_000, 8_001])));
    assert!(appended
        .iter()
        .all(|r| r.labels.as_ref().is_none_or(|l| l.is_empty())));

    client
        .batch_execute("ANALYZE readings; SET enable_seqscan = off")
        .await
        .expect("settings");
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT id FROM readings WHERE scores @> ARRAY[1500, 1502] AND deleted_at IS NULL",
            &[],
        )
        .await
        .expect("explain")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        plan.iter().any(|l| l.contains("idx_readings_scores")),
        "{plan:#?}"
    );
}

/// A `Vec<i32>` column holds no NULL element: its check refuses one (a
/// `Vec<Option<i32>>` column takes it), and should the check be gone, the
/// read is a typed decode error naming the column, never a panic.
#[tokio::test]
async fn a_vec_without_options_holds_no_null_element() {
    let db = TestDatabase::with_entities(&[Reading::SCHEMA])
        .await
        .expect("db");
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    let stored = repo.insert(&reading(3)).await.expect("insert");
    let raw = client
        .execute(
            "UPDATE readings SET scores = ARRAY[1, NULL] WHERE id = $1",
            &[&stored.id],
        )
        .await
        .expect_err("the check refuses a NULL element");
    let err = Error::from_db(raw, Reading::SCHEMA);
    assert!(
        matches!(
            &err,
            Error::CheckViolation {
                constraint,
                column: Some("scores"),
                ..
            } if constraint == "readings_scores_no_nulls"
        ),
        "{err:?}"
    );
    client
        .execute(
            "UPDATE readings SET gaps = ARRAY[1, NULL] WHERE id = $1",
            &[&stored.id],
        )
        .await
        .expect("Vec<Option<i32>> takes NULL elements");
    assert_eq!(
        repo.get::<Reading>(stored.id).await.expect("get").gaps,
        [Some(1), None]
    );

    client
        .batch_execute(
            "ALTER TABLE readings DROP CONSTRAINT readings_scores_no_nulls;
             UPDATE readings SET scores = ARRAY[1, NULL]",
        )
        .await
        .expect("null element without the check");
    let err = repo.get::<Reading>(stored.id).await.expect_err("no NULLs");
    assert!(
        matches!(
            &err,
            Error::Decode {
                column: "scores",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn array_columns_migrate_and_stay_in_sync() {
    let (_db, client) = ordinance_tests::migrated_in_sync(&[Reading::SCHEMA], "readings").await;
    let repo = Repo::new(&client);
    let new = reading(5);
    let inserted = repo.insert(&new).await.expect("insert");
    same_values(&inserted, &new);
    // Generated rows fill every array column, and read back.
    ordinance::testing::fill(&client, &[Reading::SCHEMA], 200)
        .await
        .expect("fill");
    let mut select = ordinance::query::with_deleted::<Reading>();
    select.limit(1_000);
    let all = repo.list::<Reading>(&select).await.expect("filled rows");
    assert_eq!(all.len(), 201);
    assert!(all
        .iter()
        .filter(|r| r.id != inserted.id)
        .all(|r| r.amounts.len() == 1 && r.owners.len() == 1 && r.gaps.len() == 1));
}

/// Invoices: money at two places, text with a limit.
#[derive(Entity, Debug, Clone)]
#[entity(unique(number))]
pub struct Invoice {
    pub id: Uuid,
    #[column(max_len = 12)]
    pub number: String,
    #[column(precision = 10, scale = 2)]
    pub amount: Decimal,
    #[column(precision = 10, scale = 2)]
    pub discount: Option<Decimal>,
    #[column(precision = 6, scale = 2)]
    pub fees: Vec<Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn invoice(number: &str, amount: &str) -> NewInvoice {
    NewInvoice {
        number: number.into(),
        amount: dec(amount),
        discount: None,
        fees: vec![],
    }
}

/// The error names exactly this bad column: its rule, and the array
/// element that broke it.
fn refused(err: &Error, column: &str, element: Option<u32>, rule: Rule) {
    match err {
        Error::Invalid {
            table: "invoices",
            violations,
            ..
        } => {
            let found: Vec<_> = violations
                .iter()
                .map(|v| (v.column, v.element, v.rule))
                .collect();
            assert_eq!(found, [(column, element, rule)]);
            let shown = err.to_string();
            assert!(shown.contains(&format!("\"{column}\"")), "{shown}");
            assert!(shown.contains(rule.name()), "{shown}");
        }
        other => panic!("expected {column} refused, got {other:?}"),
    }
}

async fn invoices(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM invoices", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn money_that_would_be_rounded_is_refused_on_every_path() {
    let db = TestDatabase::with_entities(&[Invoice::SCHEMA])
        .await
        .expect("db");
    let mut client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);

    // Values that fit are stored exactly: trailing zeros do not count.
    let fits = NewInvoice {
        discount: Some(dec("0.50")),
        fees: vec![dec("1234.56"), dec("0.1")],
        ..invoice("A-1", "99999999.99")
    };
    let stored = repo.insert(&fits).await.expect("fits");
    assert_eq!(stored.amount, dec("99999999.99"));
    assert_eq!(stored.fees, [dec("1234.56"), dec("0.10")]);
    assert_eq!(
        repo.insert(&invoice("A-2", "1.230"))
            .await
            .expect("1.230 is 1.23")
            .amount,
        dec("1.23")
    );

    // Single insert: too many fractional digits, too many whole digits,
    // in an optional column and in an array element; text over max_len.
    let err = repo.insert(&invoice("B-1", "1.23456")).await.unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    assert!(err.to_string().contains("scale = 2"), "{err}");
    assert!(!err.to_string().contains("1.23456"), "no value in: {err}");
    let err = repo
        .insert(&invoice("B-2", "100000000.00"))
        .await
        .unwrap_err();
    refused(
        &err,
        "amount",
        None,
        Rule::Precision {
            precision: 10,
            scale: 2,
        },
    );
    let err = repo
        .insert(&NewInvoice {
            discount: Some(dec("0.001")),
            ..invoice("B-3", "1")
        })
        .await
        .unwrap_err();
    refused(&err, "discount", None, Rule::Scale { scale: 2 });
    let err = repo
        .insert(&NewInvoice {
            fees: vec![dec("1"), dec("10000.00")],
            ..invoice("B-4", "1")
        })
        .await
        .unwrap_err();
    refused(
        &err,
        "fees",
        Some(2),
        Rule::Precision {
            precision: 6,
            scale: 2,
        },
    );
    let err = repo
        .insert(&invoice("ÄÄÄÄÄÄÄÄÄÄÄÄÄ", "1"))
        .await
        .unwrap_err();
    refused(&err, "number", None, Rule::MaxLen { max: 12 });
    // Twelve two-byte characters fit: the limit counts characters.
    repo.insert(&invoice("ÄÄÄÄÄÄÄÄÄÄÄÄ", "1"))
        .await
        .expect("12 characters fit");
    assert_eq!(invoices(&client).await, 3);

    // Update.
    let mut changed = stored.clone();
    changed.amount = dec("5.005");
    refused(
        &repo.update(&changed).await.unwrap_err(),
        "amount",
        None,
        Rule::Scale { scale: 2 },
    );

    // Upsert, single and batch.
    let err = repo
        .upsert(&invoice("A-1", "0.125"), InvoiceKey::Number)
        .await
        .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::batch::upsert_many(
        &mut client,
        &[invoice("C-1", "1"), invoice("C-2", "0.125")],
        InvoiceKey::Number,
    )
    .await
    .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });

    // Batches through COPY: the first row would fit, the second not;
    // neither lands.
    let batch = [invoice("D-1", "1"), invoice("D-2", "0.125")];
    let err = ordinance::batch::insert_many(&mut client, &batch)
        .await
        .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::batch::insert_many_count(&mut client, &batch)
        .await
        .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::batch::copy_in(&client, &batch)
        .await
        .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });

    // Builders: insert, update, upsert, and a caller's bulk `SET`.
    let err = ordinance::query::insert([(Uuid::now_v7(), &invoice("E-1", "0.125"))]).unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::query::update(&changed).unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::query::upsert(
        [(Uuid::now_v7(), &invoice("E-2", "0.125"))],
        InvoiceKey::Number,
    )
    .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::bulk::Bulk::<Invoice>::new()
        .update(
            &client,
            vec![(InvoiceColumn::Amount, Expr::val(dec("0.125")))],
        )
        .await
        .unwrap_err();
    refused(&err, "amount", None, Rule::Scale { scale: 2 });
    let err = ordinance::bulk::Bulk::<Invoice>::new()
        .update(
            &client,
            vec![(InvoiceColumn::Number, Expr::val("x".repeat(13)))],
        )
        .await
        .unwrap_err();
    refused(&err, "number", None, Rule::MaxLen { max: 12 });

    // Nothing of the refused writes reached the table.
    assert_eq!(invoices(&client).await, 3);
    let amount: Decimal = client
        .query_one("SELECT amount FROM invoices WHERE id = $1", &[&stored.id])
        .await
        .expect("stored")
        .get(0);
    assert_eq!(amount, dec("99999999.99"));
}

/// Columns with every kind of limit a value is checked against.
#[derive(Entity, Debug, Clone)]
pub struct Listing {
    pub id: Uuid,
    #[column(min_len = 3, max_len = 40)]
    pub title: String,
    #[column(min = 1, max = 10)]
    pub quantity: i32,
    #[column(precision = 8, scale = 2, min = 0)]
    pub price: Decimal,
    #[column(max_len = 5)]
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn every_bad_column_of_a_row_is_reported_at_once_and_nothing_is_sent() {
    let db = TestDatabase::with_entities(&[Listing::SCHEMA])
        .await
        .expect("db");
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    let bad = NewListing {
        title: "zq".into(),
        quantity: 0,
        price: dec("-1.005"),
        note: Some("toolong".into()),
    };
    let err = repo.insert(&bad).await.unwrap_err();
    let Error::Invalid {
        table, violations, ..
    } = &err
    else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(*table, "listings");
    let found: Vec<_> = violations
        .iter()
        .map(|v| (v.column, v.field, v.element, v.rule))
        .collect();
    assert_eq!(
        found,
        [
            ("title", "title", None, Rule::MinLen { min: 3 }),
            ("quantity", "quantity", None, Rule::Min { min: 1 }),
            ("price", "price", None, Rule::Min { min: 0 }),
            ("note", "note", None, Rule::MaxLen { max: 5 }),
        ]
    );
    let shown = err.to_string();
    assert_eq!(
        shown,
        "invalid values for \"listings\": \"title\" is shorter than 3 characters (min_len = 3); \
         \"quantity\" is below 1 (min = 1); \"price\" is below 0 (min = 0); \
         \"note\" is longer than 5 characters (max_len = 5)"
    );
    for value in ["zq", "-1.005", "toolong"] {
        assert!(!shown.contains(value), "{value} in: {shown}");
        assert!(!format!("{err:?}").contains(value), "{value} in: {err:?}");
    }

    // The upper bounds, and digits the column would round.
    let err = repo
        .insert(&NewListing {
            title: "x".repeat(41),
            quantity: 11,
            price: dec("0.001"),
            note: None,
        })
        .await
        .unwrap_err();
    let Error::Invalid { violations, .. } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    let rules: Vec<Rule> = violations.iter().map(|v| v.rule).collect();
    assert_eq!(
        rules,
        [
            Rule::MaxLen { max: 40 },
            Rule::Max { max: 10 },
            Rule::Scale { scale: 2 }
        ]
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM listings", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 0, "nothing refused was written");

    // What the kit refuses, the table's constraints refuse too: each
    // rule is the constraint, checked earlier.
    for (title, quantity, price, note) in [
        ("'ab'", "1", "1", "NULL"),
        ("'abc'", "0", "1", "NULL"),
        ("'abc'", "11", "1", "NULL"),
        ("'abc'", "1", "-1", "NULL"),
        ("'abc'", "1", "1", "'toolong'"),
    ] {
        let sql = format!(
            "INSERT INTO listings (title, quantity, price, note) \
             VALUES ({title}, {quantity}, {price}, {note})"
        );
        let err = client.execute(&sql, &[]).await.expect_err(&sql);
        assert!(
            matches!(
                Error::from_db(err, Listing::SCHEMA),
                Error::CheckViolation { .. }
            ),
            "{sql}"
        );
    }
    // A row within every bound is written.
    let ok = repo
        .insert(&NewListing {
            title: "abc".into(),
            quantity: 10,
            price: dec("999999.99"),
            note: Some("fine".into()),
        })
        .await
        .expect("fits");
    assert_eq!(ok.quantity, 10);
}
