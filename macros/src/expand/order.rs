//! The keyset-order enum (`PostOrder`) a pager names its order by: one
//! variant per `keyset(...)`, named by the declaration, so reordering the
//! attributes changes nothing a caller chose.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::DeriveInput;

use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::naming;
use crate::symbol::KEYSET;

/// The name a `keyset(...)` declares (`newest`), or else its columns as
/// written (`created_at desc` -> `created_at_desc`; a trailing `id`, which
/// every order ends in anyway, left out).
fn order_name(spec: &crate::attr::KeySpec) -> String {
    if let Some(name) = &spec.order_name {
        return naming::snake_case(&name.unraw().to_string());
    }
    let mut columns: &[crate::attr::KeyColumn] = &spec.columns;
    if let [rest @ .., last] = columns {
        if !rest.is_empty() && last.ident == "id" {
            columns = rest;
        }
    }
    let words: Vec<String> = columns
        .iter()
        .map(|c| {
            let name = c.ident.unraw().to_string();
            if c.descending {
                format!("{name}_desc")
            } else {
                name
            }
        })
        .collect();
    words.join("_")
}

/// `{Entity}Order` and its `KeysetOrder` implementation. Written whether
/// or not the entity has errors, so code naming an order reports only the
/// entity's own errors.
pub(super) fn order_enum(cx: &Ctxt, input: &DeriveInput, cont: &Container<'_>) -> TokenStream {
    let vis = &input.vis;
    let ident = cont.ident;
    let enum_ident = format_ident!("{}Order", ident);
    let mut variants: Vec<syn::Ident> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut docs = Vec::new();
    for spec in cont.attrs.keys.iter().filter(|k| k.kind == KEYSET) {
        let name = order_name(spec);
        let span = spec
            .order_name
            .as_ref()
            .map_or_else(|| spec.tokens.clone(), |n| n.to_token_stream());
        if name.is_empty() {
            continue;
        }
        if names.contains(&name) {
            cx.error_with_help(
                span,
                format_args!("two keyset orders are both named `{name}`"),
                "give each order a name of its own: `keyset(newest = (created_at desc))`, `keyset(recently_updated = (updated_at desc))`",
            );
            continue;
        }
        let columns: Vec<String> = spec
            .columns
            .iter()
            .map(|c| {
                let dir = if c.descending { " desc" } else { "" };
                format!("{}{dir}", c.ident.unraw())
            })
            .collect();
        let ties = if spec.columns.last().is_some_and(|c| c.ident == "id") {
            ""
        } else {
            ", `id` breaking ties"
        };
        docs.push(format!("Pages by `{}`{ties}.", columns.join(", ")));
        variants.push(format_ident!("{}", naming::pascal_case(&name)));
        names.push(name);
    }
    let positions = 0..variants.len();
    let doc = format!(
        "The keyset orders of [`{ident}`], one per `keyset(...)`: what \
         `Pager::order` takes."
    );
    let declaration = super::unit_enum(vis, &doc, &enum_ident, &variants, docs.into_iter());
    quote! {
        #declaration

        impl ::ordinance::KeysetOrder for #enum_ident {
            const ALL: &'static [Self] = &[ #( #enum_ident::#variants ),* ];
            fn position(self) -> usize {
                match self {
                    #( #enum_ident::#variants => #positions, )*
                }
            }
            fn name(self) -> &'static str {
                match self {
                    #( #enum_ident::#variants => #names, )*
                }
            }
        }
    }
}
