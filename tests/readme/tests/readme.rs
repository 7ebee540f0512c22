//! The README's blocks of items (its tests, its `src/bin/migrate.rs`), each
//! in a module of its own, compiled and run as written.

include!(concat!(env!("OUT_DIR"), "/readme_items.rs"));
