//! Derive macros of the `ordinance` toolkit. Use them through the `ordinance`
//! crate, which re-exports them: `use ordinance::prelude::*;`.
//!
//! Pipeline: `attr` (parse attributes) -> `ast` (model) -> `plan` (generated
//! names) -> `check` (one function per convention) -> `expand` (codegen).

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
use ordinance_naming as naming;
mod pg_type;
mod plan;
mod policy;
#[cfg(test)]
mod snapshot;
mod symbol;
mod test_attr;
mod value;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Maps a struct to a table that follows the conventions, or refuses to compile.
///
/// See the `ordinance` crate for the rules and the attributes.
#[proc_macro_derive(Entity, attributes(entity, column))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_entity(&input).into()
}

/// Stores a fieldless enum as snake_case `TEXT` with a `CHECK (col IN (...))`,
/// or as a native enum type under the policy's `types.enums = "native"`.
#[proc_macro_derive(DbEnum)]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_db_enum(&input).into()
}

/// Builds a `migrations` folder into the binary: expands to
/// `ordinance::migrate::Migrations::from_sources(&[(file name, include_str!(file)), ...])`,
/// a `Result<Migrations>`. The path is relative to the crate's
/// `Cargo.toml`; without one it is `"migrations"`.
///
/// Edits to the files rebuild the crate; a file added to the folder is
/// picked up when the crate next recompiles (a `build.rs` printing
/// `cargo:rerun-if-changed=migrations` makes that automatic).
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let dir = if input.is_empty() {
        syn::LitStr::new("migrations", proc_macro2::Span::call_site())
    } else {
        parse_macro_input!(input as syn::LitStr)
    };
    expand::embed_migrations(&dir).into()
}

/// A test with a database of its own: see `ordinance::test` (feature
/// `testing`).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand(args.into(), item.into()).into()
}
