//! The expansion of `#[derive(Entity)]` on two representative entities,
//! checked in beside the crate (`tests/snapshots/`): the size and shape of
//! what the derive writes is reviewed like any other diff. A change to the
//! expansion fails this test with the first differing line;
//! `ORDINANCE_BLESS=1 cargo test -p ordinance-macros snapshot` rewrites the
//! files (then read the diff). The tenant entity is expanded as with the
//! `serde` feature, the plain one as without, whatever this build enables.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A plain entity of every kind of column: an enum, money, JSON, an array,
/// a unique key, a keyset order, a foreign key with its relation.
const ORDER: &str = r#"
/// What a customer bought.
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc), index(status, created_at desc))]
pub struct Order {
    pub id: Uuid,
    #[column(references = Customer, on_delete = "cascade")]
    pub customer_id: Uuid,
    #[column(max_len = 40, unique)]
    pub reference: String,
    pub status: OrderStatus,
    #[column(precision = 12, scale = 2, min = 0)]
    pub total: Decimal,
    pub lines: serde_json::Value,
    pub tags: Vec<String>,
    pub is_gift: bool,
    pub shipped_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}
"#;

/// A tenant table with actor columns, a sensitive column and a foreign
/// key to another tenant table.
const TICKET: &str = r#"
/// A support request.
#[derive(Entity)]
#[entity(tenant, keyset(created_at desc))]
pub struct Ticket {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[column(references = Queue)]
    pub queue_id: Uuid,
    #[column(min_len = 1, max_len = 200)]
    pub title: String,
    #[column(sensitive)]
    pub reporter_email: String,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}
"#;

/// The derive's output for `source`, formatted by rustfmt.
fn expansion(source: &str, serde: bool) -> String {
    let input: syn::DeriveInput = syn::parse_str(source).expect("the entity parses");
    let tokens =
        crate::expand::derive_entity_with(&input, serde, &Ok(Default::default())).to_string();
    let mut rustfmt = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("rustfmt (rustup component add rustfmt)");
    {
        use std::io::Write as _;
        let mut stdin = rustfmt.stdin.take().expect("stdin");
        stdin.write_all(tokens.as_bytes()).expect("write");
    }
    let out = rustfmt.wait_with_output().expect("rustfmt runs");
    assert!(out.status.success(), "rustfmt failed");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn check(name: &str, source: &str, serde: bool) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.rs"));
    let now = format!(
        "// The expansion of #[derive(Entity)] on:\n{}\n{}",
        source
            .trim()
            .lines()
            .map(|l| format!("// {l}").trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n"),
        expansion(source, serde)
    );
    let lines = now.lines().count();
    eprintln!("snapshot {name}: {lines} generated lines");
    if std::env::var_os("ORDINANCE_BLESS").is_some() {
        std::fs::write(&path, &now).expect("write the snapshot");
        return;
    }
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some((n, (was, is))) = before
        .lines()
        .zip(now.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!(
            "the expansion of {name} changed at line {}:\n    was: {was}\n    now: {is}\n\
             Review, then: ORDINANCE_BLESS=1 cargo test -p ordinance-macros snapshot",
            n + 1
        );
    }
    assert_eq!(
        before.lines().count(),
        lines,
        "the expansion of {name} changed length ({} lines checked in); \
         review, then: ORDINANCE_BLESS=1 cargo test -p ordinance-macros snapshot",
        before.lines().count()
    );
}

#[test]
fn snapshot_of_a_plain_entity() {
    check("order", ORDER, false);
}

#[test]
fn snapshot_of_a_tenant_entity() {
    // With the `serde` feature's impls, whichever features this build has.
    check("ticket", TICKET, true);
}
