//! How long an application's own crate takes to build with the kit.
//!
//! `cargo bench -p ordinance-examples --bench build` writes a 30-entity
//! application crate (eight business columns of mixed types per entity, a
//! foreign key to the previous entity, and a service module that calls
//! insert, get, find, update, patch, soft delete, list, a page and a count
//! on every entity over a pool), builds its dependencies once, then times,
//! in the dev profile:
//!
//! - **entity crate**: the application crate alone, from clean;
//! - **one field added**: the rebuild after adding one column to one entity
//!   (the edit a developer makes most);
//! - **no change**: a rebuild with nothing to do (cargo's own floor).
//!
//! Each is the median of `ORDINANCE_BUILD_RUNS` runs (default 3). The crate
//! lives in `target/build-bench/app` with its own target directory, so the
//! workspace's build is not disturbed; pin it with `taskset` when timing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ENTITIES: usize = 30;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples crate sits in the workspace")
        .to_path_buf();
    let root = workspace.join("target/build-bench");
    let app = root.join("app");
    let runs: usize = std::env::var("ORDINANCE_BUILD_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    write_app(&workspace, &app, 0);
    let target = root.join("target");

    // Dependencies once (not timed).
    cargo(&app, &target, &["build", "--quiet"]);

    let mut clean = Vec::new();
    let mut added = Vec::new();
    let mut nothing = Vec::new();
    for run in 0..runs {
        write_app(&workspace, &app, 0);
        cargo(
            &app,
            &target,
            &["clean", "--quiet", "-p", "build-bench-app"],
        );
        clean.push(timed(|| cargo(&app, &target, &["build", "--quiet"])));
        // One more column on entity 7, different each run so nothing is cached.
        write_app(&workspace, &app, run + 1);
        added.push(timed(|| cargo(&app, &target, &["build", "--quiet"])));
        nothing.push(timed(|| cargo(&app, &target, &["build", "--quiet"])));
    }
    println!("build of a {ENTITIES}-entity application crate (dev profile, median of {runs})");
    println!(
        "{:<28}{:>10}",
        "entity crate from clean",
        secs(median(clean))
    );
    println!("{:<28}{:>10}", "one field added", secs(median(added)));
    println!("{:<28}{:>10}", "no change", secs(median(nothing)));
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn cargo(app: &Path, target: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(app)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo {args:?} failed in {}",
        app.display()
    );
}

/// Writes the application crate; `extra` > 0 adds one column named after it
/// to one entity.
fn write_app(workspace: &Path, app: &Path, extra: usize) {
    std::fs::create_dir_all(app.join("src")).expect("create the bench crate");
    let runtime: PathBuf = workspace.join("runtime");
    let manifest = format!(
        r#"[package]
name = "build-bench-app"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
ordinance = {{ path = {runtime:?} }}
"#
    );
    write_if_changed(&app.join("Cargo.toml"), &manifest);
    let mut entities = String::from(
        "//! Thirty entities.\n#![allow(missing_docs)]\nuse ordinance::prelude::*;\n\n\
         #[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]\n\
         pub enum Stage { Draft, Live, Done }\n",
    );
    for i in 0..ENTITIES {
        let reference = if i == 0 {
            String::new()
        } else {
            format!(
                "    #[column(references = Item{prev}, on_delete = \"cascade\")]\n    pub item{prev}_id: Uuid,\n",
                prev = i - 1
            )
        };
        let more = if i == 7 && extra > 0 {
            format!("    pub added_{extra}: Option<i64>,\n")
        } else {
            String::new()
        };
        let _ = write!(
            entities,
            r#"
#[derive(Entity, Debug, Clone)]
#[entity(keyset(created_at desc, id desc))]
pub struct Item{i} {{
    pub id: Uuid,
{reference}    #[column(max_len = 200)]
    pub name: String,
    pub note: Option<String>,
    pub quantity: i32,
    pub total: i64,
    pub ratio: Decimal,
    pub is_active: bool,
    pub stage: Stage,
    pub due_at: Option<DateTime<Utc>>,
{more}    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}}
"#
        );
    }
    write_if_changed(&app.join("src/entities.rs"), &entities);

    let mut service = String::from(
        "//! Every entity's common operations over a pool.\n\
         use ordinance::pool::Pool;\nuse ordinance::prelude::*;\nuse ordinance::repo::Repo;\n\
         use ordinance::page::Pager;\nuse crate::entities::*;\n",
    );
    for i in 0..ENTITIES {
        let parent = if i == 0 {
            String::new()
        } else {
            format!("item{prev}_id: parent,\n        ", prev = i - 1)
        };
        let added = if i == 7 && extra > 0 {
            format!("added_{extra}: None,\n        ")
        } else {
            String::new()
        };
        let _ = write!(
            service,
            r#"
pub async fn item{i}(pool: &Pool, parent: Uuid) -> ordinance::Result<Uuid> {{
    let _ = parent;
    let conn = pool.get().await?;
    let repo = Repo::new(&*conn);
    let new = NewItem{i} {{
        {parent}name: "n".into(),
        note: None,
        quantity: 1,
        total: 2,
        ratio: Decimal::new(5, 1),
        is_active: true,
        stage: Stage::Draft,
        due_at: None,
        {added}}};
    let mut row = repo.insert(&new).await?;
    let row2 = repo.get::<Item{i}>(row.id).await?;
    let _ = repo.find::<Item{i}>(row2.id).await?;
    row.quantity += 1;
    let row = repo.update(&row).await?;
    let patch = Item{i}Patch {{ total: Some(3), ..Default::default() }};
    let row = repo.patch(row.id, row.version, &patch).await?;
    let _ = repo.list::<Item{i}>(&ordinance::query::live::<Item{i}>()).await?;
    let page = repo.first_page(&Pager::<Item{i}>::new()?.size(10)?).await?;
    let _ = page.items.len();
    let _ = repo.count::<Item{i}>().await?;
    let row = repo.soft_delete(&row).await?;
    Ok(row.id)
}}
"#
        );
    }
    write_if_changed(&app.join("src/service.rs"), &service);
    write_if_changed(
        &app.join("src/lib.rs"),
        "//! A generated application crate.\npub mod entities;\npub mod service;\n",
    );
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write the bench crate");
    }
}
