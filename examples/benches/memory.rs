//! Peak memory of the two large operations, measured as the growth of the
//! process's peak resident set (`VmHWM`, reset before each through
//! `/proc/self/clear_refs`) over what it held before:
//!
//! - streaming 1,000,000 rows with [`Repo::stream`], each row decoded and
//!   dropped: the stream holds one row and the socket's buffer, whatever
//!   the count;
//! - inserting 100,000 rows with [`insert_many_count`] and
//!   [`insert_many`] (rows returned), beside the size of the rows given.
//!
//! The stream runs first, in a process that has freed little: memory the
//! process freed but still holds is reused without raising the peak, so a
//! phase after a large one would look smaller than it is.
//!
//! `cargo bench -p ordinance-examples --bench memory` prints the figures
//! and fails when one passes the bound the guide promises (`BOUNDS`). Linux
//! only (it reads `/proc`).

mod common;

use std::pin::pin;
use std::process::ExitCode;

use common::accounts::{new_account, Account, NewAccount, Sample};
use ordinance::batch::{insert_many, insert_many_count};
use ordinance::deps::futures_util::TryStreamExt as _;
use ordinance::prelude::*;
use ordinance::repo::Repo;
use ordinance::testing::TestDatabase;

const STREAMED: i64 = 1_000_000;
const INSERTED: usize = 100_000;

/// The most each operation may add to the peak resident set, in MiB: a
/// stream's is fixed; a batch's is a multiple of the rows given (`×`).
const STREAM_MIB: f64 = 8.0;
const INSERT_COUNT_TIMES: f64 = 1.0;
const INSERT_ROWS_TIMES: f64 = 3.0;

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match rt.block_on(run()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ordinance::Result<bool> {
    let ddl = ordinance::ddl::SchemaDdl::new(&[Account::SCHEMA, Sample::SCHEMA])?;
    let db = TestDatabase::with_schema(&ddl.up()).await?;
    let mut conn = db.connect().await?;
    conn.batch_execute(&format!(
        "INSERT INTO samples (id, email, display_name, is_admin) \
         SELECT gen_random_uuid(), 'bulk' || g || '@example.com', 'Bulk ' || g, g % 7 = 0 \
         FROM generate_series(1, {STREAMED}) AS g"
    ))
    .await?;
    let mut within = true;

    // Stream every row, decoding each.
    {
        let repo = Repo::new(&conn);
        let all = ordinance::query::live::<Sample>();
        let start = reset_peak();
        let mut rows = pin!(repo.stream::<Sample>(&all));
        let mut n = 0i64;
        while let Some(row) = rows.try_next().await? {
            std::hint::black_box(row);
            n += 1;
        }
        assert_eq!(n, STREAMED);
        let grown = peak() - start;
        within &= grown <= STREAM_MIB;
        println!(
            "stream {STREAMED} rows: peak RSS +{grown:.1} MiB (bound {STREAM_MIB:.0} MiB){}",
            if grown <= STREAM_MIB { "" } else { "  OVER" }
        );
    }

    // Insert 100,000 rows, counted then returned.
    let new: Vec<NewAccount> = (0..INSERTED).map(new_account).collect();
    // What the rows given take, counted (freed memory the process still
    // holds would hide them from the resident set).
    let given = new
        .iter()
        .map(|n| {
            std::mem::size_of::<NewAccount>()
                + n.email.capacity()
                + n.display_name.as_ref().map_or(0, String::capacity)
        })
        .sum::<usize>() as f64
        / (1024.0 * 1024.0);
    for returned in [false, true] {
        let start = reset_peak();
        if returned {
            let stored = insert_many(&mut conn, &new).await?;
            assert_eq!(stored.len(), INSERTED);
        } else {
            let written = insert_many_count(&mut conn, &new).await?;
            assert_eq!(written, INSERTED as u64);
            conn.batch_execute("DELETE FROM accounts").await?;
        }
        let grown = peak() - start;
        let (name, times) = if returned {
            ("insert_many", INSERT_ROWS_TIMES)
        } else {
            ("insert_many_count", INSERT_COUNT_TIMES)
        };
        let bound = times * given;
        within &= grown <= bound;
        println!(
            "{name} {INSERTED} rows ({given:.1} MiB given): peak RSS +{grown:.1} MiB, \
             {:.1}x the rows (bound {times:.0}x){}",
            grown / given,
            if grown <= bound { "" } else { "  OVER" }
        );
    }
    Ok(within)
}

/// Resets the process's peak resident set to what it holds now (writing
/// `5` to `/proc/self/clear_refs`), and returns that, in MiB.
fn reset_peak() -> f64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("/proc/self/clear_refs (Linux)");
    status("VmRSS:")
}

/// The peak resident set since the last reset, in MiB.
fn peak() -> f64 {
    status("VmHWM:")
}

fn status(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
