//! The `serde` feature, as an HTTP service uses it: entities out (their
//! sensitive columns only when revealed), `New…` and `…Patch` in (unknown
//! fields refused; a patch's absent, `null` and set fields told apart),
//! keyset orders by name, pages with their cursors, and violations as the
//! body of a 422 — with rows from a real server.

use ordinance::ddl::SchemaDdl;
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;
use ordinance::{Error, Json, Reveal};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Stored as text, sent as its database name.
#[derive(DbEnum, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Free,
    Pro,
}

/// A JSON document's shape.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Prefs {
    pub theme: String,
}

/// Every kind of column a body carries (its `Debug`, redacting, from the
/// derive).
#[derive(Entity, Clone, PartialEq)]
#[entity(keyset(newest = (created_at desc)), keyset(by_name = (name asc)))]
pub struct Member {
    pub id: Uuid,
    #[column(min_len = 1, max_len = 20)]
    pub name: String,
    #[column(sensitive, max_len = 320)]
    pub email: String,
    #[column(sensitive)]
    pub phone: Option<String>,
    pub nickname: Option<String>,
    pub tier: Tier,
    #[column(precision = 8, scale = 2, min = 0)]
    pub balance: Decimal,
    pub prefs: Json<Prefs>,
    pub extra: Option<Json<Prefs>>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A column type without serde support: the entity still builds, and is
/// only not `Serialize` (no test serializes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]
pub enum Plain {
    One,
}

#[derive(Entity)]
pub struct Widget {
    pub id: Uuid,
    pub kind: Plain,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn new_member(name: &str) -> NewMember {
    NewMember {
        name: name.into(),
        email: format!("{name}@example.com"),
        phone: Some("+1 555 0100".into()),
        nickname: None,
        tier: Tier::Pro,
        balance: Decimal::new(1050, 2),
        prefs: Json(Prefs {
            theme: "dark".into(),
        }),
        extra: None,
        tags: vec!["a".into()],
    }
}

#[test]
fn an_entity_leaves_its_sensitive_columns_out_unless_revealed() {
    let id = Uuid::now_v7();
    let at = "2026-12-07T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let member = Member {
        id,
        name: "ada".into(),
        email: "ada@example.com".into(),
        phone: None,
        nickname: Some("countess".into()),
        tier: Tier::Free,
        balance: Decimal::new(1050, 2),
        prefs: Json(Prefs {
            theme: "dark".into(),
        }),
        extra: Some(Json(Prefs {
            theme: "light".into(),
        })),
        tags: vec!["x".into(), "y".into()],
        created_at: at,
        updated_at: at,
        deleted_at: None,
        version: 3,
    };
    let shown = serde_json::to_value(&member).unwrap();
    assert_eq!(
        shown,
        json!({
            "id": id.to_string(),
            "name": "ada",
            "nickname": "countess",
            "tier": "free",
            "balance": "10.50",
            "prefs": {"theme": "dark"},
            "extra": {"theme": "light"},
            "tags": ["x", "y"],
            "created_at": "2026-12-07T10:00:00Z",
            "updated_at": "2026-12-07T10:00:00Z",
            "deleted_at": null,
            "version": 3,
        })
    );
    // Revealed: every column, and it reads back as the same entity.
    let revealed = serde_json::to_value(Reveal(&member)).unwrap();
    assert_eq!(revealed["email"], "ada@example.com");
    assert_eq!(revealed["phone"], serde_json::Value::Null);
    let back: Member = serde_json::from_value(revealed).unwrap();
    assert_eq!(back, member);
    // A list revealed item by item.
    let list = serde_json::to_value(Reveal(&vec![member.clone()])).unwrap();
    assert_eq!(list[0]["email"], "ada@example.com");
    assert!(serde_json::to_value(vec![member])
        .unwrap()
        .to_string()
        .find("ada@example.com")
        .is_none());
}

#[test]
fn a_new_row_comes_from_a_request_body_and_refuses_unknown_fields() {
    let new: NewMember = serde_json::from_value(json!({
        "name": "ada",
        "email": "ada@example.com",
        "tier": "pro",
        "balance": "1.50",
        "prefs": {"theme": "dark"},
        "tags": [],
    }))
    .unwrap();
    // Absent nullable columns are NULL.
    assert_eq!((new.phone, new.nickname, new.extra), (None, None, None));
    assert_eq!(new.balance, Decimal::new(150, 2));
    assert_eq!(new.tier, Tier::Pro);

    // A field the struct does not have is refused, named; so is a column
    // the kit writes.
    for (field, value) in [
        ("nmae", json!("x")),
        ("version", json!(1)),
        ("id", json!(Uuid::nil())),
    ] {
        let mut body = json!({"name": "ada", "email": "e", "tier": "pro", "balance": "1",
                              "prefs": {"theme": "t"}, "tags": []});
        body[field] = value;
        let err = serde_json::from_value::<NewMember>(body)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("unknown field `{field}`")), "{err}");
    }
    // A required field missing is named.
    let err = serde_json::from_value::<NewMember>(json!({"name": "ada"}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `email`"), "{err}");
    // Serialized, the sensitive column is left out.
    let body = serde_json::to_value(new_member("bo")).unwrap();
    assert!(
        body.get("email").is_none() && body.get("phone").is_none(),
        "{body}"
    );
    assert_eq!(body["name"], "bo");
    assert_eq!(
        serde_json::to_value(Reveal(&new_member("bo"))).unwrap()["email"],
        "bo@example.com"
    );
}

#[test]
fn a_patch_tells_absent_from_null_from_set() {
    let patch: MemberPatch = serde_json::from_value(json!({
        "nickname": null,
        "name": "ada",
        "extra": {"theme": "blue"},
    }))
    .unwrap();
    assert_eq!(patch.name.as_deref(), Some("ada"));
    assert_eq!(patch.nickname, Some(None), "null sets NULL");
    assert_eq!(patch.phone, None, "absent leaves the column alone");
    assert_eq!(
        patch.extra,
        Some(Some(Json(Prefs {
            theme: "blue".into()
        })))
    );
    assert!(patch.tier.is_none() && patch.balance.is_none() && patch.prefs.is_none());
    // `{}` changes nothing.
    let empty: MemberPatch = serde_json::from_str("{}").unwrap();
    assert!(ordinance::Patch::is_empty(&empty));
    // NULL for a NOT NULL column is refused, not taken as "leave it".
    let err = serde_json::from_value::<MemberPatch>(json!({"name": null}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid type: null"), "{err}");
    let err = serde_json::from_value::<MemberPatch>(json!({"version": 2}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `version`"), "{err}");
    // Serialized, only what is set: a set NULL as null.
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"name": "ada", "nickname": null, "extra": {"theme": "blue"}})
    );
    let secret = MemberPatch {
        email: Some("new@example.com".into()),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&secret).unwrap(), json!({}));
    assert_eq!(
        serde_json::to_value(Reveal(&secret)).unwrap(),
        json!({"email": "new@example.com"})
    );
}

#[test]
fn a_keyset_order_travels_by_its_name() {
    assert_eq!(
        serde_json::to_value(MemberOrder::ByName).unwrap(),
        json!("by_name")
    );
    let order: MemberOrder = serde_json::from_value(json!("newest")).unwrap();
    assert_eq!(order, MemberOrder::Newest);
    let err = serde_json::from_value::<MemberOrder>(json!("oldest"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown order `oldest`, expected `newest` or `by_name`"),
        "{err}"
    );
    // In a query struct, as an endpoint reads `?order=by_name`.
    #[derive(Deserialize)]
    struct Query {
        order: Option<MemberOrder>,
        cursor: Option<String>,
    }
    let q: Query = serde_json::from_value(json!({"order": "by_name"})).unwrap();
    assert_eq!((q.order, q.cursor), (Some(MemberOrder::ByName), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_violations_become_response_bodies() {
    let ddl = SchemaDdl::new(&[Member::SCHEMA, Widget::SCHEMA]).expect("ddl");
    let db = TestDatabase::with_schema(&ddl.up()).await.expect("db");
    let conn = db.connect().await.expect("connect");
    let repo = Repo::new(&conn);
    for name in ["ann", "bea", "cy"] {
        repo.insert(&new_member(name)).await.unwrap();
    }

    // A page: its items and the cursors, strings that lead on.
    let pager = Pager::<Member>::new()
        .unwrap()
        .order(MemberOrder::ByName)
        .size(2)
        .unwrap();
    let first = repo.first_page(&pager).await.unwrap();
    let body = serde_json::to_value(&first).unwrap();
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "bea"]);
    assert!(body["items"][0].get("email").is_none(), "{body}");
    assert_eq!(body["previous"], serde_json::Value::Null);
    let next = body["next"].as_str().expect("a next cursor").to_owned();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["items", "next", "previous"]
    );
    let second = repo.page_at(&pager, &next).await.unwrap();
    assert_eq!(second.items[0].name, "cy");
    let revealed = serde_json::to_value(Reveal(&second)).unwrap();
    assert_eq!(revealed["items"][0]["email"], "cy@example.com");
    assert!(revealed["previous"].is_string());

    // Every bad field at once, each named with its rule and limit, never
    // the value: the body of a 422.
    let bad = NewMember {
        name: String::new(),
        email: "x".repeat(400),
        balance: Decimal::new(-1, 0),
        ..new_member("dee")
    };
    let Err(Error::Invalid { violations, .. }) = repo.insert(&bad).await else {
        panic!("expected Invalid");
    };
    let body = serde_json::to_value(&violations).unwrap();
    assert_eq!(
        body,
        json!([
            {"field": "name", "column": "name", "rule": "min_len", "min": 1,
             "message": "shorter than 1 characters (min_len = 1)"},
            {"field": "email", "column": "email", "rule": "max_len", "max": 320,
             "message": "longer than 320 characters (max_len = 320)"},
            {"field": "balance", "column": "balance", "rule": "min", "min": 0,
             "message": "below 0 (min = 0)"},
        ])
    );
    assert!(!body.to_string().contains("xxxx"));
    assert_eq!(
        repo.count::<Member>().await.unwrap(),
        3,
        "nothing was written"
    );
}
