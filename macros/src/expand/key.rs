//! The unique-key enum (`UserKey`) an upsert names as its conflict target:
//! one variant per unique index, so a key that is not one does not compile.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::ast::Container;
use crate::attr::Value;
use crate::naming;
use crate::plan::Plan;

/// `lower_email` -> `LowerEmail`.
fn pascal(words: &[String]) -> String {
    words
        .iter()
        .flat_map(|w| w.split('_'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub(super) fn key_enum(input: &DeriveInput, cont: &Container<'_>, plan: &Plan) -> TokenStream {
    let vis = &input.vis;
    let ident = cont.ident;
    let enum_ident = format_ident!("{}Key", ident);
    let mut variants = Vec::new();
    let mut positions = Vec::new();
    let mut docs = Vec::new();
    for (position, ix) in plan.indexes.iter().enumerate().filter(|(_, ix)| ix.unique) {
        // What is keyed, then the predicate's values, as the index name says.
        let mut words: Vec<String> = ix
            .columns
            .iter()
            .zip(&ix.lower)
            .map(|((i, _), lower)| {
                let c = &cont.fields[*i].column;
                if *lower {
                    format!("lower_{c}")
                } else {
                    c.clone()
                }
            })
            .collect();
        words.extend(ix.predicate.iter().map(|(i, v, _)| match v {
            Value::Str(s) => naming::snake_case(s),
            Value::Bool(false) => format!("not_{}", cont.fields[*i].column),
            _ => cont.fields[*i].column.clone(),
        }));
        let mut name = pascal(&words);
        while variants.iter().any(|v: &syn::Ident| *v == name) {
            name.push('_');
        }
        variants.push(format_ident!("{}", name));
        positions.push(position);
        docs.push(format!(
            "The unique index `{}` on ({}).",
            ix.name,
            words.join(", ")
        ));
    }
    let doc = format!(
        "The unique keys of [`{ident}`], one per unique index: the conflict target of an upsert \
         (`Repo::upsert`, `batch::upsert_many`, `query::upsert`)."
    );
    quote! {
        #[doc = #doc]
        // Generated for every unique index; a crate that upserts on some must not be warned.
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy,
                 ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash)]
        #vis enum #enum_ident {
            #( #[doc = #docs] #variants, )*
        }

        impl ::ordinance::UniqueKey for #enum_ident {
            fn index_position(self) -> usize {
                match self {
                    #( #enum_ident::#variants => #positions, )*
                }
            }
        }
    }
}
