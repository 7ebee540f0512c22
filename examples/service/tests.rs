//! The service over HTTP: started on 127.0.0.1 against a real PostgreSQL,
//! as the application's least-privileged role, and called with plain
//! HTTP/1.0 requests.

use std::net::SocketAddr;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response: status, headers (lower-case names) and JSON body (`Null`
/// when empty).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nhost: {addr}\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("content-type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .expect("status line")
        .split(' ')
        .nth(1)
        .expect("code")
        .parse()
        .expect("number");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_with_its_status() {
    let (_db, addr) = started().await;

    // 201: a user, then a post by them, with its version as the ETag.
    let user = call(
        addr,
        "POST",
        "/users",
        &[],
        Some(json!({"email": "ada@example.com", "display_name": "Ada", "is_admin": false})),
    )
    .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let author = user.body["id"].as_str().unwrap().to_owned();
    // 409: the same email again.
    let again = call(
        addr,
        "POST",
        "/users",
        &[],
        Some(json!({"email": "ada@example.com", "display_name": null, "is_admin": false})),
    )
    .await;
    assert_eq!(
        (again.status, &again.body["field"]),
        (409, &json!("email")),
        "{}",
        again.body
    );

    let new_post =
        |title: &str| json!({"author_id": author, "title": title, "body": "…", "status": "draft"});
    let created = call(addr, "POST", "/posts", &[], Some(new_post("First"))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let at = format!("/posts/{id}");

    // 200 / 404.
    let got = call(addr, "GET", &at, &[], None).await;
    assert_eq!((got.status, &got.body["title"]), (200, &json!("First")));
    let missing = call(
        addr,
        "GET",
        &format!("/posts/{}", uuid::Uuid::now_v7()),
        &[],
        None,
    )
    .await;
    assert_eq!(missing.status, 404);

    // PATCH with If-Match: one field changes, the version moves on.
    let patched = call(
        addr,
        "PATCH",
        &at,
        &[("if-match", "\"1\"")],
        Some(json!({"title": "First, edited"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        (&patched.body["title"], &patched.body["body"]),
        (&json!("First, edited"), &json!("…"))
    );
    assert_eq!(patched.header("etag"), Some("\"2\""));
    // 412: a stale If-Match; 409: a stale `?version=`; 428 with neither.
    let stale = call(
        addr,
        "PATCH",
        &at,
        &[("if-match", "\"1\"")],
        Some(json!({"title": "lost"})),
    )
    .await;
    assert_eq!(stale.status, 412);
    let stale = call(
        addr,
        "PATCH",
        &format!("{at}?version=1"),
        &[],
        Some(json!({"title": "lost"})),
    )
    .await;
    assert_eq!(stale.status, 409);
    let blind = call(addr, "PATCH", &at, &[], Some(json!({"title": "lost"}))).await;
    assert_eq!(blind.status, 428);
    // 422: every bad field at once, without the values.
    let bad = call(
        addr,
        "PATCH",
        &at,
        &[("if-match", "\"2\"")],
        Some(json!({"title": ""})),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let bad = call(
        addr,
        "POST",
        "/posts",
        &[],
        Some(json!({"author_id": author, "title": "x".repeat(300), "body": "", "status": "draft"})),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["fields"][0]["field"], "title");
    assert_eq!(bad.body["fields"][0]["rule"], "max_len");
    assert!(!bad.body.to_string().contains("xxxx"));
    // 422 as well from axum for a field the body must not have.
    let unknown = call(
        addr,
        "PATCH",
        &at,
        &[("if-match", "\"2\"")],
        Some(json!({"version": 9})),
    )
    .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        call(addr, "GET", &at, &[], None).await.body["version"],
        2,
        "nothing changed"
    );

    // Lists with cursors: 3 posts, pages of 2, in the named order.
    for title in ["Second", "Third"] {
        assert_eq!(
            call(addr, "POST", "/posts", &[], Some(new_post(title)))
                .await
                .status,
            201
        );
    }
    let first = call(addr, "GET", "/posts?order=by_status&size=2", &[], None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let next = first.body["next"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let second = call(
        addr,
        "GET",
        &format!("/posts?order=by_status&size=2&cursor={next}"),
        &[],
        None,
    )
    .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next"], Value::Null);
    // 400: a forged cursor; an unknown order is axum's 400.
    let forged = call(addr, "GET", "/posts?cursor=AAAAforged", &[], None).await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    let order = call(addr, "GET", "/posts?order=oldest", &[], None).await;
    assert_eq!(order.status, 400);

    // Soft delete with If-Match: 204, then 404; restore: 200 again.
    assert_eq!(
        call(addr, "DELETE", &at, &[("if-match", "\"1\"")], None)
            .await
            .status,
        412
    );
    assert_eq!(
        call(addr, "DELETE", &at, &[("if-match", "\"2\"")], None)
            .await
            .status,
        204
    );
    assert_eq!(call(addr, "GET", &at, &[], None).await.status, 404);
    assert_eq!(
        call(
            addr,
            "PATCH",
            &at,
            &[("if-match", "\"3\"")],
            Some(json!({"title": "x"}))
        )
        .await
        .status,
        404
    );
    let restored = call(addr, "POST", &format!("{at}/restore"), &[], None).await;
    assert_eq!(
        (restored.status, &restored.body["title"]),
        (200, &json!("First, edited"))
    );
    assert_eq!(call(addr, "GET", &at, &[], None).await.status, 200);
}

/// A scratch database with the blog's migrations, and the service over it
/// as the application role on a free port.
async fn started() -> (ordinance::testing::TestDatabase, SocketAddr) {
    let db = ordinance::testing::TestDatabase::create()
        .await
        .expect("db");
    let mut owner = db.connect().await.expect("owner");
    ordinance::embed_migrations!("migrations")
        .expect("migrations")
        .up(&mut owner)
        .await
        .expect("up");
    let app = super::cluster(db.app_config().await.expect("app role"))
        .await
        .expect("cluster");
    let addr = super::serve(app, ([127, 0, 0, 1], 0).into())
        .await
        .expect("serve");
    (db, addr)
}

/// The text of a plain GET.
async fn text(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.0\r\nhost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    raw.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_scrape_and_a_health_probe() {
    super::prometheus();
    let (_db, addr) = started().await;
    let user = call(
        addr,
        "POST",
        "/users",
        &[],
        Some(json!({"email": "grace@example.com", "display_name": null, "is_admin": false})),
    )
    .await;
    assert_eq!(user.status, 201);
    let missing = format!("/posts/{}", uuid::Uuid::now_v7());
    assert_eq!(call(addr, "GET", &missing, &[], None).await.status, 404);

    let scrape = text(addr, "/metrics").await;
    println!("{scrape}");
    let line = |prefix: &str, parts: &[&str]| {
        scrape
            .lines()
            .find(|l| l.starts_with(prefix) && parts.iter().all(|p| l.contains(p)))
            .unwrap_or_else(|| panic!("no {prefix} with {parts:?} in\n{scrape}"))
            .to_owned()
    };
    line(
        "db_client_operation_duration",
        &[
            "db_collection_name=\"users\"",
            "db_operation_name=\"INSERT\"",
            "ordinance_operation=\"insert\"",
        ],
    );
    line(
        "db_client_operation_duration",
        &[
            "db_collection_name=\"posts\"",
            "ordinance_operation=\"get\"",
        ],
    );
    line(
        "db_client_connection_count",
        &[
            "db_client_connection_pool_name=\"primary\"",
            "db_client_connection_state=\"idle\"",
        ],
    );
    let max = line("db_client_connection_max", &["pool_name=\"primary\""]);
    assert!(max.ends_with(" 16"), "{max}");
    line("db_client_connection_wait_time", &["pool_name=\"primary\""]);
    line(
        "db_client_connection_create_time",
        &["pool_name=\"primary\""],
    );
    assert!(
        !scrape.contains("grace@example.com"),
        "a value in the scrape"
    );

    let health = call(addr, "GET", "/health", &[], None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["primary"]["name"], "primary");
    assert_eq!(health.body["primary"]["max"], 16);
    assert_eq!(health.body["replicas"], json!([]));
}

/// One request's trace, exported as an OTLP exporter would send it: the
/// route's span and, under it, the statement's client span with its
/// database attributes. On this thread (a current-thread runtime), so
/// the server's tasks see the test's subscriber.
#[tokio::test]
async fn one_requests_trace() {
    use opentelemetry::trace::{SpanKind, TracerProvider as _};
    use tracing_subscriber::layer::SubscriberExt as _;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("blog")));
    // A second dispatcher registered for the process: with only one,
    // `tracing` would take this thread's for the global one, and a
    // callsite first reached by another test's thread would stay off.
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let (_db, addr) = started().await;
    let user = call(
        addr,
        "POST",
        "/users",
        &[],
        Some(json!({"email": "lin@example.com", "display_name": null, "is_admin": false})),
    )
    .await;
    let author = user.body["id"].as_str().unwrap().to_owned();
    let post = call(
        addr,
        "POST",
        "/posts",
        &[],
        Some(json!({"author_id": author, "title": "Traced", "body": "", "status": "draft"})),
    )
    .await;
    let id = post.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(addr, "GET", &format!("/posts/{id}"), &[], None)
            .await
            .status,
        200
    );

    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let route = spans
        .iter()
        .find(|s| s.name == "GET /posts/{id}")
        .unwrap_or_else(|| {
            panic!(
                "the route's span in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let select = spans
        .iter()
        .find(|s| s.name == "SELECT posts")
        .expect("the statement's span");
    assert_eq!(select.parent_span_id, route.span_context.span_id());
    assert_eq!(select.span_kind, SpanKind::Client);
    let attribute = |key: &str| {
        select
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
    };
    assert_eq!(attribute("db.collection.name").as_deref(), Some("posts"));
    assert_eq!(attribute("db.operation.name").as_deref(), Some("SELECT"));
    assert_eq!(attribute("db.response.returned_rows").as_deref(), Some("1"));
    assert!(attribute("db.query.text")
        .is_some_and(|t| t.ends_with("WHERE \"id\" = $1 AND \"deleted_at\" IS NULL")));
}
