//! `ordinance-migrate`: applies, reverts and inspects a migrations folder.
//!
//! ```text
//! ordinance-migrate [--dir migrations] [--database-url URL] status
//! ordinance-migrate [...] up          the expand phase (up to the first contract migration)
//! ordinance-migrate [...] contract    every pending migration, contract ones included
//! ordinance-migrate [...] dry-run     print what `contract` would run
//! ordinance-migrate [...] down VERSION
//!                                     revert migrations newer than VERSION (0: all)
//! ```
//!
//! An application can run the same commands from its own crate, with its
//! migrations built in: see `ordinance::cli`.

fn main() -> std::process::ExitCode {
    ordinance::cli::main_from_dir()
}
