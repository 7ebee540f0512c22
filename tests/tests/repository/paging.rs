//! Keyset pagination on a real PostgreSQL: walks against `ORDER BY`, mixed
//! directions, concurrent writes, the plan on 100,000 rows, and cursors.

use std::collections::HashSet;

use ordinance::batch::insert_many;
use ordinance::deps::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
use ordinance::exec::Connection;
use ordinance::page::{Direction, Pager, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use ordinance::prelude::*;
use ordinance::query::Visibility;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::CursorError;
use ordinance::Error;
use proptest::prelude::*;
use tokio_postgres::Client;

/// Rows with few distinct values per column, so sort keys tie often.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(
    keyset(created_at desc, id desc),
    keyset(created_at asc),
    keyset(bucket asc, created_at desc),
    keyset(bucket desc, rank asc, created_at asc),
    keyset(label asc, happened_on desc),
    keyset(amount desc, is_flagged asc)
)]
pub struct Entry {
    pub id: Uuid,
    pub bucket: i16,
    pub rank: i64,
    #[column(max_len = 20)]
    pub label: String,
    pub happened_on: NaiveDate,
    #[column(precision = 8, scale = 2)]
    pub amount: Decimal,
    pub is_flagged: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// `ORDER BY` of a declared order, as plain SQL for the ground truth.
fn order_by(pager: &Pager<Entry>) -> String {
    pager
        .columns()
        .iter()
        .map(|c| format!("{} {}", c.name, if c.descending { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn entry(i: u64) -> NewEntry {
    NewEntry {
        bucket: (i % 3) as i16,
        rank: (i % 5) as i64,
        label: ["a", "b", "b", "c"][(i % 4) as usize].to_owned(),
        happened_on: NaiveDate::from_ymd_opt(2026, 1, 1 + (i % 3) as u32).expect("date"),
        amount: Decimal::new((i % 7) as i64 * 125, 2),
        is_flagged: i.is_multiple_of(2),
    }
}

async fn database() -> (TestDatabase, Connection) {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Entry::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let client = db.connect().await.expect("connect");
    (db, client)
}

/// Inserts `n` rows in groups of `group` rows per transaction: each group
/// shares one `created_at`.
async fn seed(client: &mut Client, n: u64, group: u64) -> Vec<Entry> {
    let mut all = Vec::new();
    let mut i = 0;
    while i < n {
        let rows: Vec<NewEntry> = (i..std::cmp::min(i + group, n)).map(entry).collect();
        all.extend(insert_many(client, &rows).await.expect("seed"));
        i += group;
    }
    all
}

async fn expected_ids(client: &Client, pager: &Pager<Entry>, filter: &str) -> Vec<Uuid> {
    client
        .query(
            &format!(
                "SELECT id FROM entries WHERE deleted_at IS NULL {filter} ORDER BY {}",
                order_by(pager)
            ),
            &[],
        )
        .await
        .expect("ground truth")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Walks forward from the first page and backward from the last, checking
/// the links and the has-more flags along the way.
async fn walk_both_ways(
    repo: &Repo<'_, Connection>,
    pager: &Pager<Entry>,
) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut forward = Vec::new();
    let mut page = repo.first_page(pager).await.expect("first page");
    assert!(!page.has_previous && page.previous.is_none());
    loop {
        assert!(page.items.len() <= pager.page_size());
        assert_eq!(page.has_next, page.next.is_some());
        forward.extend(page.items.iter().map(|e| e.id));
        let Some(next) = page.next.clone() else { break };
        assert_eq!(
            page.items.len(),
            pager.page_size(),
            "only the last page is short"
        );
        let following = repo.page_at(pager, &next).await.expect("next page");
        // next, then previous: the same page again.
        let back = repo
            .page_at(
                pager,
                following.previous.as_deref().expect("a previous link"),
            )
            .await
            .expect("previous page");
        assert_eq!(
            back.items, page.items,
            "next then previous returns the same page"
        );
        page = following;
    }
    let mut backward = Vec::new();
    let mut page = repo.last_page(pager).await.expect("last page");
    assert!(!page.has_next && page.next.is_none());
    loop {
        backward.splice(0..0, page.items.iter().map(|e| e.id));
        let Some(previous) = page.previous.clone() else {
            break;
        };
        page = repo.page_at(pager, &previous).await.expect("previous page");
        assert!(page.has_next);
    }
    (forward, backward)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn walks_match_order_by_in_every_declared_order(
        rows in 0u64..160,
        group in 1u64..40,
        size in 1usize..25,
        order in 0usize..6,
        deleted in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        bucket_filter in proptest::option::of(0i16..3),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let (_db, mut client) = database().await;
            let stored = seed(&mut client, rows, group).await;
            let repo = Repo::new(&client);
            if !stored.is_empty() {
                for index in &deleted {
                    let victim = index.get(&stored);
                    let _ = repo.soft_delete(victim).await; // may already be deleted
                }
            }
            let mut pager = Pager::<Entry>::new().expect("pager").order(EntryOrder::ALL[order]).size(size).expect("size");
            let mut filter = String::new();
            if let Some(b) = bucket_filter {
                pager = pager.filter(Expr::col(EntryColumn::Bucket).eq(b));
                filter = format!("AND bucket = {b}");
            }
            let expected = expected_ids(&client, &pager, &filter).await;
            let (forward, backward) = walk_both_ways(&repo, &pager).await;
            assert_eq!(forward, expected, "forward walk = ORDER BY");
            assert_eq!(backward, expected, "backward walk = ORDER BY");
            let unique: HashSet<_> = forward.iter().collect();
            assert_eq!(unique.len(), forward.len(), "no row twice");
        });
    }
}

#[tokio::test]
async fn pages_combine_with_scopes_and_sizes_are_bounded() {
    let (_db, mut client) = database().await;
    let stored = seed(&mut client, 30, 10).await;
    let repo = Repo::new(&client);
    for e in &stored[..7] {
        repo.soft_delete(e).await.expect("soft delete");
    }
    let count = |pager: Pager<Entry>| {
        let repo = &repo;
        async move {
            let (forward, _) = walk_both_ways(repo, &pager).await;
            forward.len()
        }
    };
    let pager = Pager::<Entry>::new().expect("pager").size(4).expect("size");
    assert_eq!(count(pager.clone()).await, 23);
    assert_eq!(
        count(pager.clone().visibility(Visibility::WithDeleted)).await,
        30
    );
    assert_eq!(
        count(pager.clone().visibility(Visibility::OnlyDeleted)).await,
        7
    );

    assert_eq!(
        Pager::<Entry>::new().expect("pager").page_size(),
        DEFAULT_PAGE_SIZE
    );
    assert!(matches!(
        Pager::<Entry>::new().expect("pager").size(MAX_PAGE_SIZE + 1),
        Err(Error::PageSize { requested, max, .. }) if requested == MAX_PAGE_SIZE + 1 && max == MAX_PAGE_SIZE
    ));
    assert!(matches!(
        Pager::<Entry>::new().expect("pager").size(0),
        Err(Error::PageSize { .. })
    ));
    assert!(Pager::<Entry>::new()
        .expect("pager")
        .max_size(2000)
        .expect("max size")
        .size(2000)
        .is_ok());
    // Settings that cannot work are refused when set.
    assert!(matches!(
        Pager::<Entry>::new().expect("pager").max_size(0),
        Err(Error::InvalidSetting {
            setting: "Pager::max_size",
            ..
        })
    ));
    let chosen = Pager::<Entry>::new()
        .expect("pager")
        .size(100)
        .expect("size");
    assert!(matches!(
        chosen.max_size(20),
        Err(Error::InvalidSetting { .. })
    ));
    // The default size shrinks to a lower maximum instead.
    let small = Pager::<Entry>::new()
        .expect("pager")
        .max_size(20)
        .expect("max");
    assert_eq!(small.page_size(), 20);
    // Orders are named by the derive, never by position: one per
    // `keyset(...)`, named as declared or after its columns.
    let names: Vec<&str> = EntryOrder::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "created_at_desc",
            "created_at",
            "bucket_created_at_desc",
            "bucket_desc_rank_created_at",
            "label_happened_on_desc",
            "amount_desc_is_flagged",
        ]
    );
    assert_eq!(
        EntryOrder::from_name("bucket_created_at_desc"),
        Some(EntryOrder::BucketCreatedAtDesc)
    );
    assert_eq!(EntryOrder::from_name("newest"), None);
}

#[tokio::test]
async fn a_walk_during_writes_sees_every_steady_row_exactly_once() {
    let (db, mut client) = database().await;
    let steady = seed(&mut client, 600, 50).await;
    let writer_client = db.connect().await.expect("writer");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let repo = Repo::new(&writer_client);
            let mut churned = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let fresh = repo.insert(&entry(churned)).await.expect("insert");
                if churned.is_multiple_of(2) {
                    repo.soft_delete(&fresh).await.expect("soft delete");
                }
                churned += 1;
                tokio::task::yield_now().await;
            }
            churned
        })
    };
    let repo = Repo::new(&client);
    let mut walks = 0;
    for &order in EntryOrder::ALL {
        let pager = Pager::<Entry>::new()
            .expect("pager")
            .order(order)
            .size(7)
            .expect("size");
        let mut seen = Vec::new();
        let mut page = repo.first_page(&pager).await.expect("first");
        loop {
            seen.extend(page.items.iter().map(|e| e.id));
            let Some(next) = page.next.clone() else { break };
            tokio::task::yield_now().await;
            page = repo.page_at(&pager, &next).await.expect("next");
        }
        let unique: HashSet<Uuid> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "order {order:?}: no row seen twice"
        );
        for e in &steady {
            assert!(
                unique.contains(&e.id),
                "order {order:?}: a steady row was skipped"
            );
        }
        walks += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let churned = writer.await.expect("writer");
    assert_eq!(walks, 6);
    assert!(churned > 0, "the writer ran during the walks");
}

/// The plan of a page statement, with its values bound.
async fn explain(
    client: &Client,
    statement: &ordinance::deps::sea_query::SelectStatement,
) -> String {
    let (sql, values) = statement.build(PostgresQueryBuilder);
    let owned = ordinance::query::bind_values(values).expect("values");
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        owned.iter().map(|(p, _)| &**p as _).collect();
    client
        .query(&format!("EXPLAIN {sql}"), &params)
        .await
        .expect("explain")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn pages_use_the_declared_index_on_a_hundred_thousand_rows() {
    let (_db, mut client) = database().await;
    seed(&mut client, 100_000, 20_000).await;
    client
        .batch_execute("ANALYZE entries")
        .await
        .expect("analyze");
    let repo = Repo::new(&client);
    for (order, index) in [
        (EntryOrder::CreatedAtDesc, "idx_entries_created_at_id"),
        (EntryOrder::CreatedAt, "idx_entries_created_at_id"),
        (
            EntryOrder::BucketCreatedAtDesc,
            "idx_entries_bucket_created_at_id",
        ),
        (
            EntryOrder::BucketDescRankCreatedAt,
            "idx_entries_bucket_rank_created_at_id",
        ),
    ] {
        let pager = Pager::<Entry>::new()
            .expect("pager")
            .order(order)
            .size(50)
            .expect("size");
        // Deep into the table: the 200th page.
        let mut page = repo.first_page(&pager).await.expect("first");
        for _ in 0..200 {
            page = repo
                .page_at(&pager, page.next.as_deref().expect("more pages"))
                .await
                .expect("next");
        }
        for (what, statement) in [
            ("first page", pager.first_page_statement()),
            (
                "next page",
                pager
                    .cursor_statement(page.next.as_deref().expect("next"))
                    .expect("stmt"),
            ),
            (
                "previous page",
                pager
                    .cursor_statement(page.previous.as_deref().expect("previous"))
                    .expect("stmt"),
            ),
        ] {
            let plan = explain(&client, &statement).await;
            assert!(
                plan.contains(&format!("Index Scan using {index}"))
                    || plan.contains(&format!("Index Scan Backward using {index}")),
                "order {order:?}, {what}: uses {index}\n{plan}"
            );
            assert!(
                !plan.contains("Sort"),
                "order {order:?}, {what}: no sort\n{plan}"
            );
            assert!(
                !plan.contains("Seq Scan"),
                "order {order:?}, {what}: no seq scan\n{plan}"
            );
        }
    }
}

// ---- cursors ----

fn pager() -> Pager<Entry> {
    Pager::<Entry>::new().expect("pager").size(3).expect("size")
}

async fn valid_cursors(signed: bool) -> (TestDatabase, Vec<String>) {
    let (db, mut client) = database().await;
    seed(&mut client, 20, 5).await;
    let mut pager = pager();
    if signed {
        pager = pager.signing_key(*b"0123456789abcdef0123456789abcdef");
    }
    let repo = Repo::new(&client);
    let first = repo.first_page(&pager).await.expect("first");
    let second = repo
        .page_at(&pager, first.next.as_deref().expect("next"))
        .await
        .expect("second");
    let cursors = vec![
        first.next.expect("next"),
        second.next.expect("next"),
        second.previous.expect("previous"),
    ];
    (db, cursors)
}

#[tokio::test]
async fn each_kind_of_bad_cursor_is_named() {
    let (_db, cursors) = valid_cursors(false).await;
    let cursor = &cursors[0];
    fn invalid<E: Entity>(p: &Pager<E>, c: &str) -> CursorError {
        match p.check_cursor(c) {
            Err(Error::InvalidCursor(reason)) => reason,
            other => panic!("expected an invalid cursor for {c:?}, got {other:?}"),
        }
    }
    assert_eq!(
        pager().check_cursor(cursor).expect("valid"),
        Direction::Forward
    );
    assert_eq!(
        pager().check_cursor(&cursors[2]).expect("valid"),
        Direction::Backward
    );

    assert_eq!(
        invalid(&pager(), &cursor[..cursor.len() - 3]),
        CursorError::Truncated
    );
    assert_eq!(invalid(&pager(), "not a cursor!"), CursorError::NotBase64);
    assert_eq!(invalid(&pager(), "AAAA"), CursorError::UnknownVersion(0));
    assert!(matches!(
        invalid(&pager(), &"A".repeat(5000)),
        CursorError::TooLong { len: 5000, .. }
    ));
    assert_eq!(
        invalid(&pager().order(EntryOrder::CreatedAt), cursor),
        CursorError::OtherOrder
    );
    assert_eq!(
        invalid(
            &pager().filter(Expr::col(EntryColumn::Bucket).eq(1)),
            cursor
        ),
        CursorError::OtherFilter
    );
    assert_eq!(
        invalid(&pager().visibility(Visibility::WithDeleted), cursor),
        CursorError::OtherFilter
    );
    // The same filter with another value is another filter.
    let one = pager().filter(Expr::col(EntryColumn::Bucket).eq(1));
    let two = pager().filter(Expr::col(EntryColumn::Bucket).eq(2));
    let (_db2, mut client) = database().await;
    seed(&mut client, 20, 5).await;
    let page = Repo::new(&client).first_page(&one).await.expect("page");
    let filtered = page.next.expect("next");
    assert!(one.check_cursor(&filtered).is_ok());
    assert_eq!(invalid(&two, &filtered), CursorError::OtherFilter);

    // Another entity's cursor.
    let users = Pager::<ordinance_tests::User>::new().expect("pager");
    assert_eq!(invalid(&users, cursor), CursorError::OtherEntity);

    // Signatures.
    let keyed = pager().signing_key(b"key one".to_vec());
    assert_eq!(invalid(&keyed, cursor), CursorError::Unsigned);
    let (_db3, signed) = valid_cursors(true).await;
    assert_eq!(
        invalid(&pager(), &signed[0]),
        CursorError::UnexpectedSignature
    );
    assert_eq!(
        invalid(&pager().signing_key(b"another key".to_vec()), &signed[0]),
        CursorError::BadSignature
    );
    let right = pager().signing_key(*b"0123456789abcdef0123456789abcdef");
    assert!(right.check_cursor(&signed[0]).is_ok());
    // Flip one bit inside the signed body: the signature no longer matches.
    let mut bytes = base64_decode(&signed[0]);
    bytes[20] ^= 1;
    assert_eq!(
        invalid(&right, &base64_encode(&bytes)),
        CursorError::BadSignature
    );
}

#[tokio::test]
async fn a_forged_unsigned_cursor_moves_the_page_but_a_signed_one_cannot_be_forged() {
    // Unsigned cursors are opaque, not secret: a client can rewrite the key.
    // That is what signing is for; this shows the difference is real.
    let (_db, mut client) = database().await;
    seed(&mut client, 20, 5).await;
    let repo = Repo::new(&client);
    let signed = pager().signing_key(b"k".to_vec());
    let first = repo.first_page(&signed).await.expect("first");
    let next = first.next.expect("next");
    let mut bytes = base64_decode(&next);
    let last = bytes.len() - 33; // a byte of the id, just before the tag
    bytes[last] ^= 0x80;
    match repo.page_at(&signed, &base64_encode(&bytes)).await {
        Err(Error::InvalidCursor(CursorError::BadSignature)) => {}
        other => panic!("forgery accepted: {other:?}"),
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn valid_cursor_set() -> &'static (Vec<String>, Vec<String>) {
    static SET: std::sync::OnceLock<(Vec<String>, Vec<String>)> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (_a, plain) = valid_cursors(false).await;
            let (_b, signed) = valid_cursors(true).await;
            (plain, signed)
        })
    })
}

/// A decode that is not a panic: `Ok`, or an invalid-cursor error.
fn decodes_or_names_the_problem(pager: &Pager<Entry>, text: &str) -> Result<(), TestCaseError> {
    match pager.check_cursor(text) {
        Ok(_) | Err(Error::InvalidCursor(_)) => Ok(()),
        Err(other) => Err(TestCaseError::fail(format!("{other:?}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic_the_decoder(text in ".{0,300}") {
        decodes_or_names_the_problem(&pager(), &text)?;
        decodes_or_names_the_problem(&pager().signing_key(b"k".to_vec()), &text)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = base64_encode(&bytes);
        decodes_or_names_the_problem(&pager(), &text)?;
        decodes_or_names_the_problem(&pager().signing_key(b"k".to_vec()), &text)?;
    }

    #[test]
    fn mutated_cursors_never_panic_and_signed_ones_never_pass(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let (plain, signed) = valid_cursor_set();
        for (set, keyed) in [(plain, false), (signed, true)] {
            let original = base64_decode(&set[which]);
            let mut bytes = original.clone();
            for (at, value, kind) in &edits {
                match kind {
                    0 if !bytes.is_empty() => { let i = at.index(bytes.len()); bytes[i] = *value; }
                    1 => { let i = at.index(bytes.len() + 1); bytes.insert(i, *value); }
                    _ if !bytes.is_empty() => { let i = at.index(bytes.len()); bytes.remove(i); }
                    _ => {}
                }
            }
            let text = base64_encode(&bytes);
            let p = if keyed { pager().signing_key(*b"0123456789abcdef0123456789abcdef") } else { pager() };
            decodes_or_names_the_problem(&p, &text)?;
            if keyed && bytes != original {
                prop_assert!(p.check_cursor(&text).is_err(), "an altered signed cursor passed");
            }
        }
    }
}

/// Titles as long as their column allows, in characters of up to four bytes.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(
    keyset(by_title = (title asc, id asc)),
    keyset(newest = (created_at desc, id desc))
)]
pub struct Headline {
    pub id: Uuid,
    #[column(max_len = 2000)]
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn every_page_is_reachable_with_the_longest_text_keys() {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Headline::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let mut client = db.connect().await.expect("connect");
    // 2,000 characters of four bytes each: 8,000 bytes per key, well past
    // the 4,096-character limit cursors had before.
    let rows: Vec<NewHeadline> = ["😀", "日", "é", "z"]
        .iter()
        .flat_map(|c| {
            (0..3).map(move |i| NewHeadline {
                title: format!("{i}{}", c.repeat(1999)),
            })
        })
        .collect();
    insert_many(&mut client, &rows).await.expect("rows");
    for signed in [false, true] {
        let mut pager = Pager::<Headline>::new()
            .expect("pager")
            .size(1)
            .expect("size");
        if signed {
            pager = pager.signing_key(b"k".to_vec());
        }
        let repo = Repo::new(&client);
        let mut page = repo.first_page(&pager).await.expect("first");
        let mut seen = page.items.len();
        let mut longest = 0;
        while let Some(next) = page.next.clone() {
            longest = std::cmp::max(longest, next.len());
            assert!(next.len() <= pager.max_cursor_len());
            page = repo
                .page_at(&pager, &next)
                .await
                .expect("every page is reachable");
            seen += page.items.len();
        }
        assert_eq!(seen, rows.len(), "signed: {signed}");
        assert!(longest > 4096, "the keys were not long: {longest}");
        // And backward from the end.
        let mut page = repo.last_page(&pager).await.expect("last");
        let mut back = page.items.len();
        while let Some(previous) = page.previous.clone() {
            page = repo.page_at(&pager, &previous).await.expect("backward");
            back += page.items.len();
        }
        assert_eq!(back, rows.len());
    }
}

#[tokio::test]
async fn a_cursor_the_server_would_refuse_is_an_invalid_cursor() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let ddl = ordinance::ddl::SchemaDdl::new(&[Headline::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let mut client = db.connect().await.expect("connect");
    let rows: Vec<NewHeadline> = (0..3)
        .map(|i| NewHeadline {
            title: format!("t{i}"),
        })
        .collect();
    insert_many(&mut client, &rows).await.expect("rows");
    // `newest` is (created_at desc, id desc): the cursor ends with a
    // timestamp (tag 8, 8 bytes) and a uuid (tag 1, 16 bytes).
    let pager = Pager::<Headline>::new()
        .expect("pager")
        .order(HeadlineOrder::Newest)
        .size(1)
        .expect("size");
    let repo = Repo::new(&client);
    let cursor = repo
        .first_page(&pager)
        .await
        .expect("page")
        .next
        .expect("next");
    let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
    let at = bytes.len() - 17 - 8;
    assert_eq!(bytes[at - 1], 8, "a timestamp key");
    // One microsecond before 4714-11-24 BC: chrono holds it, PostgreSQL not.
    let too_early: i64 = -210_866_803_200_000_000 - 1;
    bytes[at..at + 8].copy_from_slice(&too_early.to_be_bytes());
    let forged = URL_SAFE_NO_PAD.encode(&bytes);
    match repo.page_at(&pager, &forged).await {
        Err(Error::InvalidCursor(CursorError::Malformed(why))) => {
            assert!(why.contains("PostgreSQL's range"), "{why}")
        }
        other => panic!("expected an invalid cursor, got {other:?}"),
    }
    // Invalid UTF-8 in a text key: order 0 ends with the title's bytes and
    // a uuid.
    let pager = Pager::<Headline>::new()
        .expect("pager")
        .size(1)
        .expect("size");
    let cursor = repo
        .first_page(&pager)
        .await
        .expect("page")
        .next
        .expect("next");
    let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
    let last_title_byte = bytes.len() - 17 - 1;
    bytes[last_title_byte] = 0xff;
    let forged = URL_SAFE_NO_PAD.encode(&bytes);
    assert!(matches!(
        repo.page_at(&pager, &forged).await,
        Err(Error::InvalidCursor(CursorError::Malformed(
            "a text value is not UTF-8"
        )))
    ));
}
