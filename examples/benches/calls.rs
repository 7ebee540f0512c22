//! Client instructions per call, the kit's against a hand-written
//! tokio-postgres baseline in the same process, counted by callgrind —
//! deterministic, so CI can fail on a regression that timing noise would
//! hide.
//!
//! `cargo bench -p ordinance-examples --bench calls` runs itself under
//! `valgrind --tool=callgrind` (which must be installed), with collection
//! on only inside the measured calls: each variant runs a few calls to
//! warm up (statements prepared, caches filled), then a fixed number of
//! calls counted, the kit's and the baseline's taking turns, each call on
//! its own `block_on` (so the runtime's I/O driver and the connection task
//! are counted with the call that woke them). Taking turns spreads what
//! one call cannot control — whether the answer was already there, a
//! timer of the runtime — over both sides alike. It prints instructions
//! per call, the ratio and its threshold, and exits with failure when a
//! ratio passes its threshold. The baselines are written as an expert
//! would: statements prepared once, rows decoded by index, nothing
//! allocated that the result does not need.
//!
//! `ORDINANCE_CALLS_ONLY=<substring>` measures only the variants whose name
//! contains it; `ORDINANCE_CALLS_TOP=<n>` measures each side's calls in a
//! loop of their own instead and prints its `n` costliest functions (their
//! own cost, from `callgrind_annotate`), to see where a difference goes.

// One future runs at a time here, so a RefCell borrowed across an await
// cannot be borrowed twice.
#![allow(clippy::await_holding_refcell_ref)]

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use common::accounts::{
    base_get, base_insert, base_list, base_patch, base_soft_delete, base_stream, base_update,
    decode_sample, kit_get, kit_patch, kit_stream, kit_update, new_account, prepare, raw_client,
    Account, NewAccount, NewSample, Sample, COLUMNS,
};
use common::tree::{hand_tree, kit_tree, seed_tree, Comment, Post, TreeStatements, User};
use ordinance::batch::{insert_many, insert_many_count};
use ordinance::cluster::{Cluster, ClusterOptions};
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::{TestDatabase, TestServer};
use tokio::runtime::Runtime;

/// Set in the process callgrind runs: measure, do not drive.
const INNER: &str = "ORDINANCE_CALLS_INNER";
/// Where the inner process writes the measured loops, in order.
const LIST: &str = "ORDINANCE_CALLS_LIST";
/// Set when each side's calls are measured in a loop of their own.
const APART: &str = "ORDINANCE_CALLS_APART";

/// Each variant's largest ratio kit / baseline before the bench fails.
const THRESHOLDS: &[(&str, f64)] = &[
    ("get-pooled", 1.06),
    ("get-connection", 1.06),
    ("get-client", 1.06),
    ("insert-pooled", 1.06),
    ("update-pooled", 1.08),
    ("patch-pooled", 1.13),
    ("soft_delete-pooled", 1.07),
    ("list-10k", 1.02),
    ("stream-10k", 1.08),
    ("page-50", 1.33),
    ("tree-100x10x10", 1.08),
    ("tree-1x10x10", 1.11),
    ("cluster-get", 1.06),
    ("cluster-replica-get", 1.07),
];

fn main() -> ExitCode {
    if std::env::var_os(INNER).is_some() {
        inner();
        ExitCode::SUCCESS
    } else {
        drive()
    }
}

// ---------------------------------------------------------------------------
// The driver: runs the inner process under callgrind and reads the counts.

fn drive() -> ExitCode {
    let dir = std::env::temp_dir().join(format!("ordinance-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let list = dir.join("list.txt");
    let exe = std::env::current_exe().expect("this binary");
    let top: usize = std::env::var("ORDINANCE_CALLS_TOP")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let status = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*ordinance_calls_kit*",
            "--toggle-collect=*ordinance_calls_base*",
            "--dump-before=ordinance_calls_dump",
        ])
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join("cg.out").display()
        ))
        .arg(&exe)
        .env(INNER, "1")
        .env(LIST, &list)
        .env(APART, if top > 0 { "1" } else { "" })
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("the measured process failed: {s}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("valgrind could not run ({e}): install valgrind (apt-get install valgrind)");
            return ExitCode::FAILURE;
        }
    }
    let loops: Vec<(String, u64)> = std::fs::read_to_string(&list)
        .expect("the list of measured loops")
        .lines()
        .filter_map(|l| {
            let (name, calls) = l.split_once('\t')?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect();
    let mut per_call = Vec::new();
    for (k, (name, calls)) in loops.iter().enumerate() {
        let dump = dir.join(format!("cg.out.{}", k + 1));
        for side in ["kit", "base"] {
            let total = if top > 0 {
                // This dump is one side's loop.
                if !name.ends_with(side) {
                    continue;
                }
                instructions(&dump)
            } else {
                inclusive(&dump, &format!("ordinance_calls_{side}"))
            };
            let total = total.unwrap_or_else(|| panic!("no count in {}", dump.display()));
            let variant = name.trim_end_matches(" kit").trim_end_matches(" base");
            per_call.push((format!("{variant} {side}"), total as f64 / *calls as f64));
        }
        if top > 0 {
            print_top(name, &dump, top);
        }
    }
    if std::env::var_os("ORDINANCE_CALLS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }

    println!(
        "{:<22} {:>12} {:>12} {:>7} {:>7}",
        "instructions per call", "ordinance", "baseline", "ratio", "limit"
    );
    let mut failed = Vec::new();
    for (variant, limit) in THRESHOLDS {
        let find = |side: &str| {
            per_call
                .iter()
                .find(|(n, _)| *n == format!("{variant} {side}"))
                .map(|(_, c)| *c)
        };
        let (Some(kit), Some(base)) = (find("kit"), find("base")) else {
            continue;
        };
        let ratio = kit / base;
        let verdict = if ratio > *limit {
            failed.push(*variant);
            "  OVER"
        } else {
            ""
        };
        println!("{variant:<22} {kit:>12.0} {base:>12.0} {ratio:>6.3}x {limit:>6.2}x{verdict}");
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("over their thresholds: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

/// The instruction count of one callgrind dump (its `summary:` or
/// `totals:` line).
fn instructions(dump: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dump).ok()?;
    text.lines().find_map(|l| {
        let rest = l
            .strip_prefix("summary:")
            .or_else(|| l.strip_prefix("totals:"))?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The inclusive count of the function named `function` in a dump.
fn inclusive(dump: &Path, function: &str) -> Option<u64> {
    let out = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(dump)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.contains(&format!("::{function} ")) || l.contains(&format!(":{function} ")))
        .find_map(|l| l.split_whitespace().next()?.replace(',', "").parse().ok())
}

/// The `n` costliest functions of a dump, by their own cost.
fn print_top(name: &str, dump: &Path, n: usize) {
    let out = Command::new("callgrind_annotate")
        .args(["--threshold=100"])
        .arg(dump)
        .output();
    let Ok(out) = out else { return };
    let text = String::from_utf8_lossy(&out.stdout);
    println!("--- {name}: top {n} functions (own Ir)");
    let rows = text
        .lines()
        .skip_while(|l| !l.contains("file:function"))
        .skip(2)
        .take(n);
    for row in rows {
        println!("{}", row.trim_end());
    }
}

// ---------------------------------------------------------------------------
// The measured process.

/// Runs one of the kit's calls to completion on `rt`: callgrind counts
/// what runs inside this function (the runtime's I/O driver and the
/// connection tasks included).
#[inline(never)]
fn ordinance_calls_kit<F: Future>(rt: &Runtime, work: F) -> F::Output {
    rt.block_on(work)
}

/// [`ordinance_calls_kit`] for the baseline's calls.
#[inline(never)]
fn ordinance_calls_base<F: Future>(rt: &Runtime, work: F) -> F::Output {
    rt.block_on(work)
}

/// Called after each measured loop: callgrind writes the loop's counts
/// before it runs (`--dump-before`), so each dump holds one loop.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn ordinance_calls_dump() {
    std::hint::black_box(());
}

/// The measured loops, in order, written where the driver reads them.
struct Loops<'r> {
    rt: &'r Runtime,
    names: Vec<String>,
    only: Option<String>,
    /// Each side's calls in a loop (and a dump) of their own.
    apart: bool,
}

impl Loops<'_> {
    /// Whether the variant `name` is measured in this run.
    fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|o| name.contains(o.as_str()))
    }

    /// Warms up kit and baseline with `warm` calls each, then measures
    /// `calls` of the kit's and `calls` of the baseline's.
    fn pair<K, KF, B, BF>(
        &mut self,
        name: &str,
        (warm, calls): (usize, usize),
        mut kit: K,
        mut base: B,
    ) where
        K: FnMut(usize) -> KF,
        KF: Future<Output = ()>,
        B: FnMut(usize) -> BF,
        BF: Future<Output = ()>,
    {
        if !self.wants(name) {
            return;
        }
        for i in 0..warm {
            self.rt.block_on(kit(i));
            self.rt.block_on(base(i));
        }
        if self.apart {
            for i in warm..warm + calls {
                ordinance_calls_kit(self.rt, kit(i));
            }
            ordinance_calls_dump();
            self.names.push(format!("{name} kit\t{calls}"));
            for i in warm..warm + calls {
                ordinance_calls_base(self.rt, base(i));
            }
            ordinance_calls_dump();
            self.names.push(format!("{name} base\t{calls}"));
        } else {
            for i in warm..warm + calls {
                ordinance_calls_kit(self.rt, kit(i));
                ordinance_calls_base(self.rt, base(i));
            }
            ordinance_calls_dump();
            self.names.push(format!("{name}\t{calls}"));
        }
    }
}

const SINGLE: (usize, usize) = (20, 500);
const READS: (usize, usize) = (1, 3);
const READ: usize = 10_000;

fn inner() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut loops = Loops {
        rt: &rt,
        names: Vec::new(),
        only: std::env::var("ORDINANCE_CALLS_ONLY").ok(),
        apart: std::env::var_os(APART).is_some_and(|a| !a.is_empty()),
    };
    single_rows(&rt, &mut loops);
    trees(&rt, &mut loops);
    replica(&rt, &mut loops);
    let list = PathBuf::from(std::env::var_os(LIST).expect("where to write the list"));
    std::fs::write(list, loops.names.join("\n")).expect("the list");
}

/// Single rows, large reads, a page and a Cluster read, on `accounts` and
/// `samples`.
fn single_rows(rt: &Runtime, loops: &mut Loops<'_>) {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA, Sample::SCHEMA]).expect("ddl");
    let db = rt
        .block_on(TestDatabase::with_schema(&ddl.up()))
        .expect("database");
    let pool = rt
        .block_on(Pool::connect(
            db.config().clone(),
            PoolOptions {
                min_size: 1,
                ..PoolOptions::default()
            },
        ))
        .expect("pool");
    let pooled = rt.block_on(pool.get()).expect("pooled connection");
    let plain = rt.block_on(db.connect()).expect("connection");
    let bare = rt.block_on(raw_client(&db)).expect("client");
    let base = rt.block_on(raw_client(&db)).expect("client");
    let p = rt.block_on(prepare(&base)).expect("prepare");
    let mut setup = rt.block_on(db.connect()).expect("connection");
    let seeded = rt
        .block_on(insert_many(
            &mut setup,
            &(0..1000).map(new_account).collect::<Vec<_>>(),
        ))
        .expect("seed");
    let samples: Vec<NewSample> = (0..READ)
        .map(|i| NewSample {
            email: format!("sample{i}@example.com"),
            display_name: (i % 3 != 0).then(|| format!("Sample {i}")),
            is_admin: i.is_multiple_of(7),
        })
        .collect();
    rt.block_on(insert_many_count(&mut setup, &samples))
        .expect("samples");
    rt.block_on(setup.batch_execute("ANALYZE"))
        .expect("analyze");
    let ids: Vec<Uuid> = seeded.iter().map(|a| a.id).collect();

    // Get, on each kind of executor.
    let get_base = |i: usize| {
        let id = ids[i % ids.len()];
        let (base, p) = (&base, &p);
        async move {
            std::hint::black_box(base_get(base, p, id).await);
        }
    };
    let pooled_repo = Repo::new(&*pooled);
    loops.pair(
        "get-pooled",
        SINGLE,
        |i| kit_get(&pooled_repo, ids[i % ids.len()]),
        get_base,
    );
    let plain_repo = Repo::new(&plain);
    loops.pair(
        "get-connection",
        SINGLE,
        |i| kit_get(&plain_repo, ids[i % ids.len()]),
        get_base,
    );
    let bare_repo = Repo::new(&bare);
    loops.pair(
        "get-client",
        SINGLE,
        |i| kit_get(&bare_repo, ids[i % ids.len()]),
        get_base,
    );

    // Writes, on a pooled connection.
    loops.pair(
        "insert-pooled",
        SINGLE,
        |i| {
            let repo = &pooled_repo;
            async move {
                let a = repo.insert(&new_account(10_000 + i)).await.expect("insert");
                std::hint::black_box(a);
            }
        },
        |i| {
            let (base, p) = (&base, &p);
            async move {
                std::hint::black_box(base_insert(base, p, &new_account(20_000 + i)).await);
            }
        },
    );
    let kit_row = RefCell::new(seeded[0].clone());
    let base_row = RefCell::new(seeded[1].clone());
    loops.pair(
        "update-pooled",
        SINGLE,
        |i| {
            let (kit_row, repo) = (&kit_row, &pooled_repo);
            async move {
                let a = kit_row.borrow().clone();
                *kit_row.borrow_mut() = kit_update(repo, a, i.is_multiple_of(2)).await;
            }
        },
        |i| {
            let (base_row, base, p) = (&base_row, &base, &p);
            async move {
                let a = base_row.borrow().clone();
                *base_row.borrow_mut() = base_update(base, p, &a, i.is_multiple_of(2)).await;
            }
        },
    );
    let kit_row = RefCell::new(seeded[2].clone());
    let base_row = RefCell::new(seeded[3].clone());
    loops.pair(
        "patch-pooled",
        SINGLE,
        |i| {
            let (kit_row, repo) = (&kit_row, &pooled_repo);
            async move {
                let (id, version) = {
                    let a = kit_row.borrow();
                    (a.id, a.version)
                };
                *kit_row.borrow_mut() = kit_patch(repo, id, version, i.is_multiple_of(2)).await;
            }
        },
        |i| {
            let (base_row, base, p) = (&base_row, &base, &p);
            async move {
                let (id, version) = {
                    let a = base_row.borrow();
                    (a.id, a.version)
                };
                *base_row.borrow_mut() =
                    base_patch(base, p, id, version, i.is_multiple_of(2)).await;
            }
        },
    );
    let n = SINGLE.0 + SINGLE.1;
    let doomed: Vec<NewAccount> = (0..2 * n).map(|i| new_account(900_000 + i)).collect();
    let doomed = rt
        .block_on(insert_many(&mut setup, &doomed))
        .expect("doomed rows");
    loops.pair(
        "soft_delete-pooled",
        SINGLE,
        |i| {
            let (a, repo) = (&doomed[i], &pooled_repo);
            async move {
                std::hint::black_box(repo.soft_delete(a).await.expect("soft delete"));
            }
        },
        |i| {
            let (a, base, p) = (&doomed[n + i], &base, &p);
            async move {
                std::hint::black_box(base_soft_delete(base, p, a).await.expect("live"));
            }
        },
    );

    // 10,000 rows, read whole and streamed.
    let all = ordinance::query::live::<Sample>();
    loops.pair(
        "list-10k",
        READS,
        |_| {
            let (repo, all) = (&pooled_repo, &all);
            async move {
                let rows: Vec<Sample> = repo.list(all).await.expect("list");
                assert_eq!(rows.len(), READ);
                std::hint::black_box(rows);
            }
        },
        |_| {
            let (base, p) = (&base, &p);
            async move {
                let rows = base_list(base, p).await;
                assert_eq!(rows.len(), READ);
                std::hint::black_box(rows);
            }
        },
    );
    loops.pair(
        "stream-10k",
        READS,
        |_| {
            let (repo, all) = (&pooled_repo, &all);
            async move {
                assert_eq!(kit_stream(repo, all).await, READ);
            }
        },
        |_| {
            let (base, p) = (&base, &p);
            async move {
                assert_eq!(base_stream(base, p).await, READ);
            }
        },
    );

    // A page of 50 after a cursor: the kit's signed-free cursor decoded,
    // the keyset condition bound, the next cursor made; the baseline binds
    // the key it was handed and returns the last row's.
    let pager = Pager::<Sample>::new()
        .expect("pager")
        .size(50)
        .expect("size");
    let first = rt
        .block_on(pooled_repo.first_page(&pager))
        .expect("first page");
    let cursor = first.next.clone().expect("a next page");
    let last = first.items.last().expect("rows").clone();
    let page_sql = format!(
        "SELECT {COLUMNS} FROM samples WHERE deleted_at IS NULL AND (created_at, id) < ($1, $2) \
         ORDER BY created_at DESC, id DESC LIMIT 51"
    );
    let page_statement = rt.block_on(base.prepare(&page_sql)).expect("prepare");
    loops.pair(
        "page-50",
        SINGLE,
        |_| {
            let (repo, pager, cursor) = (&pooled_repo, &pager, &cursor);
            async move {
                let page = repo.page_at(pager, cursor).await.expect("page");
                assert_eq!(page.items.len(), 50);
                std::hint::black_box(page);
            }
        },
        |_| {
            let (base, s, last) = (&base, &page_statement, &last);
            async move {
                let rows = base
                    .query(s, &[&last.created_at, &last.id])
                    .await
                    .expect("page");
                let more = rows.len() > 50;
                let items: Vec<Sample> = rows.iter().take(50).map(decode_sample).collect();
                let next = items.last().filter(|_| more).map(|s| (s.created_at, s.id));
                assert_eq!(items.len(), 50);
                std::hint::black_box((items, next));
            }
        },
    );

    // A Cluster read against the same read on its pool directly, with
    // read-your-writes tracking on (the default).
    let cluster =
        Cluster::new(pool.clone(), Vec::new(), ClusterOptions::default()).expect("cluster");
    let cluster_repo = cluster.repo();
    loops.pair(
        "cluster-get",
        SINGLE,
        |i| kit_get(&cluster_repo, ids[i % ids.len()]),
        |i| {
            let id = ids[i % ids.len()];
            let pool = &pool;
            async move {
                let conn = pool.get().await.expect("pooled");
                let a: Account = Repo::new(&*conn).get(id).await.expect("get");
                std::hint::black_box(a);
            }
        },
    );
    drop(pooled);
}

/// diesel_bench's association workload: 100 users x 10 posts x 10
/// comments, and 1 x 10 x 10, each in a database of its own.
fn trees(rt: &Runtime, loops: &mut Loops<'_>) {
    for users in [100usize, 1] {
        let ddl = ordinance::ddl::SchemaDdl::new(&[User::SCHEMA, Post::SCHEMA, Comment::SCHEMA])
            .expect("ddl");
        let db = rt
            .block_on(TestDatabase::with_schema(&ddl.up()))
            .expect("database");
        let mut setup = rt.block_on(db.connect()).expect("connection");
        rt.block_on(seed_tree(&mut setup));
        if users == 1 {
            rt.block_on(setup.batch_execute(
                "DELETE FROM users WHERE id <> (SELECT id FROM users ORDER BY id LIMIT 1)",
            ))
            .expect("one user");
        }
        rt.block_on(setup.batch_execute("ANALYZE"))
            .expect("analyze");
        let kit = rt.block_on(db.connect()).expect("connection");
        let repo = Repo::new(&kit);
        let base = rt.block_on(raw_client(&db)).expect("client");
        let statements = rt.block_on(TreeStatements::prepare(&base));
        let check = rt.block_on(kit_tree(&repo));
        assert_eq!(check.len(), users);
        loops.pair(
            &format!("tree-{users}x10x10"),
            READS,
            |_| {
                let repo = &repo;
                async move {
                    std::hint::black_box(kit_tree(repo).await);
                }
            },
            |_| {
                let (base, s) = (&base, &statements);
                async move {
                    std::hint::black_box(hand_tree(base, s).await);
                }
            },
        );
    }
}

/// A `Cluster` read routed to a streaming standby (read-your-writes
/// tracking on, the default), against the same get on the standby's pool.
/// The replica's health is checked once while warming up and trusted for
/// the rest of the run: under callgrind a run lasts a hundred times longer
/// than it would, and a check every half second would weigh a hundred
/// times what it does in a service.
fn replica(rt: &Runtime, loops: &mut Loops<'_>) {
    const NAME: &str = "cluster-replica-get";
    if !loops.wants(NAME) {
        return;
    }
    let primary = TestServer::start_dedicated().expect("a server of its own");
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA]).expect("ddl");
    let mut setup = rt
        .block_on(ordinance::testing::connect(primary.config()))
        .expect("connection");
    rt.block_on(setup.batch_execute(&ddl.up())).expect("schema");
    let seeded = rt
        .block_on(insert_many(
            &mut setup,
            &(0..1000).map(new_account).collect::<Vec<_>>(),
        ))
        .expect("seed");
    let ids: Vec<Uuid> = seeded.iter().map(|a| a.id).collect();
    let standby = primary.start_standby().expect("a standby");
    let options = PoolOptions {
        min_size: 1,
        ..PoolOptions::default()
    };
    let replica = rt
        .block_on(Pool::connect(standby.config().clone(), options.clone()))
        .expect("standby pool");
    let cluster = Cluster::new(
        rt.block_on(Pool::connect(primary.config().clone(), options))
            .expect("primary pool"),
        vec![replica.clone()],
        ClusterOptions {
            health_interval: std::time::Duration::from_secs(3600),
            ..ClusterOptions::default()
        },
    )
    .expect("cluster");
    // The standby serves once it has replayed the rows.
    let last = *ids.last().expect("rows");
    for _ in 0..600 {
        let on_standby = rt.block_on(async {
            let conn = replica.get().await.expect("standby connection");
            Repo::new(&*conn).find::<Account>(last).await
        });
        if matches!(on_standby, Ok(Some(_))) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let repo = cluster.repo();
    rt.block_on(kit_get(&repo, last));
    assert!(
        cluster.replica_health()[0].up,
        "the standby answers its health check"
    );
    loops.pair(
        NAME,
        SINGLE,
        |i| kit_get(&repo, ids[i % ids.len()]),
        |i| {
            let id = ids[i % ids.len()];
            let replica = &replica;
            async move {
                let conn = replica.get().await.expect("pooled");
                let a: Account = Repo::new(&*conn).get(id).await.expect("get");
                std::hint::black_box(a);
            }
        },
    );
}
