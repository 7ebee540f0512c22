//! An HTTP service over the blog's entities, with axum: create, get,
//! PATCH with `If-Match`, list with cursors, soft delete and restore, as
//! the application's least-privileged role.
//!
//! `cargo run --example service` applies the blog's migrations to a scratch
//! database (on `DATABASE_URL`'s server when set, else a throwaway
//! PostgreSQL), serves on 127.0.0.1:3000 (`PORT` to change it), and prints
//! a few `curl` lines to try. `cargo test --example service` starts it on a
//! free port and calls every endpoint over HTTP.
//!
//! The kit does the work an endpoint would otherwise write by hand:
//! `NewPost` and `PostPatch` are the request bodies (unknown fields
//! refused), `Post` is the response (sensitive columns left out), the
//! `ETag` is the row's version and `If-Match` goes to `Repo::patch` as the
//! expected version, a page serializes with its cursors, and every error
//! maps to its status in one `match`. `/metrics` is a Prometheus scrape of
//! the kit's metrics, `/health` the cluster's pools and replicas.

use std::net::SocketAddr;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordinance::cluster::Cluster;
use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::page::Pager;
use ordinance::prelude::*;
use ordinance::{query, Error};
use ordinance_examples::blog_entities::*;
use serde::Deserialize;

/// The routes, over one cluster (the application role's pools).
pub fn router(db: Cluster) -> Router {
    Router::new()
        .route("/users", post(create_user))
        .route("/posts", post(create_post).get(list_posts))
        .route(
            "/posts/{id}",
            get(get_post).patch(patch_post).delete(delete_post),
        )
        .route("/posts/{id}/restore", post(restore_post))
        .route("/health", get(health))
        .route("/metrics", get(scrape))
        .with_state(db)
}

/// The process's Prometheus recorder: installed once, the kit's metrics
/// on (`ordinance::telemetry`).
pub fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed keeps the metrics; the
        // scrape is then empty.
        let _ = metrics::set_global_recorder(recorder);
        ordinance::telemetry::enable_metrics(true);
        handle
    })
}

/// Prometheus's text format: statement durations, the pools' connections
/// and waits, retries, stale versions.
async fn scrape(State(db): State<Cluster>) -> Response {
    // The gauges as of now, not as of the last request.
    db.primary().record_metrics();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
        .into_response()
}

/// Each pool and replica, for a load balancer or an orchestrator.
async fn health(State(db): State<Cluster>) -> Response {
    Json(db.health().await).into_response()
}

async fn create_user(State(db): State<Cluster>, Json(new): Json<NewUser>) -> Response {
    match db.repo().insert(&new).await {
        Ok(user) => (StatusCode::CREATED, Json(user)).into_response(),
        Err(e) => problem(e),
    }
}

async fn create_post(State(db): State<Cluster>, Json(new): Json<NewPost>) -> Response {
    match db.repo().insert(&new).await {
        Ok(post) => with_etag(StatusCode::CREATED, &post),
        Err(e) => problem(e),
    }
}

async fn get_post(State(db): State<Cluster>, Path(id): Path<Uuid>) -> Response {
    use tracing::Instrument as _;
    let span = tracing::info_span!("GET /posts/{id}", "http.route" = "/posts/{id}");
    match db.repo().get::<Post>(id).instrument(span).await {
        Ok(post) => with_etag(StatusCode::OK, &post),
        Err(e) => problem(e),
    }
}

/// `If-Match: "3"` is the version the client saw: the write happens only
/// if the row is still at it (412 otherwise), and only the fields sent
/// change. Without the header, `?version=3` (409 when stale).
async fn patch_post(
    State(db): State<Cluster>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Query(q): Query<Expected>,
    Json(patch): Json<PostPatch>,
) -> Response {
    let Some((version, stale)) = expected(&headers, &q) else {
        return (StatusCode::PRECONDITION_REQUIRED, "send If-Match").into_response();
    };
    match db.repo().patch(id, version, &patch).await {
        Ok(post) => with_etag(StatusCode::OK, &post),
        Err(Error::StaleVersion { .. }) => stale.into_response(),
        Err(e) => problem(e),
    }
}

async fn delete_post(
    State(db): State<Cluster>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Query(q): Query<Expected>,
) -> Response {
    let Some((version, stale)) = expected(&headers, &q) else {
        return (StatusCode::PRECONDITION_REQUIRED, "send If-Match").into_response();
    };
    let repo = db.on_primary();
    let repo = repo.repo();
    let post = match repo.get::<Post>(id).await {
        Ok(post) if post.version == version => post,
        Ok(_) => return stale.into_response(),
        Err(e) => return problem(e),
    };
    match repo.soft_delete(&post).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(Error::StaleVersion { .. }) => stale.into_response(),
        Err(e) => problem(e),
    }
}

async fn restore_post(State(db): State<Cluster>, Path(id): Path<Uuid>) -> Response {
    let repo = db.on_primary();
    let repo = repo.repo();
    let deleted = query::only_deleted::<Post>()
        .and_where(Expr::col(PostColumn::Id).eq(id))
        .to_owned();
    let post = match repo.list::<Post>(&deleted).await.map(|mut p| p.pop()) {
        Ok(Some(post)) => post,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return problem(e),
    };
    match repo.restore(&post).await {
        Ok(post) => with_etag(StatusCode::OK, &post),
        Err(e) => problem(e),
    }
}

/// `?order=by_status&cursor=...&size=20`: the order by its name, the cursor
/// from the previous page's `next` or `previous`.
#[derive(Deserialize)]
struct ListQuery {
    order: Option<PostOrder>,
    cursor: Option<String>,
    size: Option<usize>,
}

async fn list_posts(State(db): State<Cluster>, Query(q): Query<ListQuery>) -> Response {
    let pager = Pager::<Post>::new()
        .map(|p| p.order(q.order.unwrap_or(PostOrder::ByStatus)))
        .and_then(|p| p.size(q.size.unwrap_or(20)));
    let pager = match pager {
        Ok(pager) => pager,
        Err(e) => return problem(e),
    };
    let repo = db.repo();
    let page = match &q.cursor {
        Some(cursor) => repo.page_at(&pager, cursor).await,
        None => repo.first_page(&pager).await,
    };
    match page {
        Ok(page) => Json(page).into_response(),
        Err(e) => problem(e),
    }
}

/// The version a write expects: `If-Match: "N"` (stale → 412), else
/// `?version=N` (stale → 409).
#[derive(Deserialize)]
struct Expected {
    version: Option<i32>,
}

fn expected(headers: &HeaderMap, q: &Expected) -> Option<(i32, StatusCode)> {
    match headers.get(header::IF_MATCH) {
        Some(tag) => {
            let tag = tag.to_str().ok()?.trim().trim_start_matches("W/");
            Some((
                tag.trim_matches('"').parse().ok()?,
                StatusCode::PRECONDITION_FAILED,
            ))
        }
        None => Some((q.version?, StatusCode::CONFLICT)),
    }
}

fn with_etag(status: StatusCode, post: &Post) -> Response {
    let mut response = (status, Json(post)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", post.version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// Every error to its status, with a body that says what happened and no
/// value the client sent or the database holds.
fn problem(err: Error) -> Response {
    let (status, body) = match &err {
        Error::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "not found"}),
        ),
        Error::StaleVersion { actual, .. } => (
            StatusCode::CONFLICT,
            serde_json::json!({"error": "changed by someone else", "version": actual}),
        ),
        Error::UniqueViolation { column, .. } => (
            StatusCode::CONFLICT,
            serde_json::json!({"error": "already exists", "field": column}),
        ),
        Error::Invalid { violations, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({"error": "invalid", "fields": violations}),
        ),
        Error::ForeignKeyViolation { column, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({"error": "refers to nothing", "field": column}),
        ),
        Error::InvalidCursor(_) | Error::InvalidSetting { .. } => (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": err.to_string()}),
        ),
        e if e.is_retryable() => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "try again"}),
        ),
        _ => {
            eprintln!("error: {err}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"error": "internal"}),
            )
        }
    };
    (status, Json(body)).into_response()
}

/// Starts the service on `addr` over `db`; returns the bound address.
pub async fn serve(db: Cluster, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router(db)).await });
    Ok(bound)
}

/// A cluster over `config`'s server as its application role.
pub async fn cluster(
    config: ordinance::deps::tokio_postgres::Config,
) -> ordinance::Result<Cluster> {
    let pool = ordinance::pool::Pool::connect(config, Default::default()).await?;
    Cluster::new(pool, Vec::new(), Default::default())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = ordinance::testing::TestDatabase::create().await?;
    let mut owner = db.connect().await?;
    ordinance::embed_migrations!("migrations")?
        .up(&mut owner)
        .await?;
    prometheus();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = serve(
        cluster(db.app_config().await?).await?,
        ([127, 0, 0, 1], port).into(),
    )
    .await?;
    println!("serving on http://{addr} as the application role; try:");
    println!("  curl -si -X POST http://{addr}/users -H 'content-type: application/json' -d '{{\"email\": \"ada@example.com\", \"display_name\": null, \"is_admin\": false}}'");
    println!("  curl -si http://{addr}/posts");
    println!("  curl -s http://{addr}/metrics");
    println!("  curl -s http://{addr}/health");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
#[path = "service/tests.rs"]
mod tests;
