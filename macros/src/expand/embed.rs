//! `embed_migrations!`: a migrations folder as `include_str!`s.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn embed_migrations(dir: &syn::LitStr) -> TokenStream {
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let path = base.join(dir.value());
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) => {
            let message = format!(
                "cannot read the migrations folder {}: {e}; the path is relative to the crate's Cargo.toml",
                path.display()
            );
            return syn::Error::new(dir.span(), message).to_compile_error();
        }
    };
    let mut files: Vec<(String, String)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        // The migrations, and the statement catalog bless writes beside
        // them (what `migrate verify` proves the next deploy with).
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sql")
                || p.file_name().is_some_and(|f| f == "statements.catalog")
        })
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            Some((name, p.to_str()?.to_owned()))
        })
        .collect();
    files.sort();
    let pairs = files
        .iter()
        .map(|(name, full)| quote!((#name, ::core::include_str!(#full))));
    quote! {
        ::ordinance::migrate::Migrations::from_sources(&[ #(#pairs),* ])
    }
}
