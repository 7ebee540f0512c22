//! Relation constants, one per foreign key (`Comment::POST`), and the
//! join-entity marker. The loading itself is runtime code
//! (`ordinance::relation`), driven by the schema.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Container;
use crate::plan::Plan;

/// The constant of the relation through `column`: the column without `_id`,
/// upper-cased (`author_id` -> `AUTHOR`); `_RELATION` is added where that
/// would hide one of the entity's own constants (`TABLE`, `SCHEMA`).
fn const_name(column: &str) -> syn::Ident {
    let base = column.strip_suffix("_id").unwrap_or(column).to_uppercase();
    match base.as_str() {
        "TABLE" | "SCHEMA" => format_ident!("{}_RELATION", base),
        _ => format_ident!("{}", base),
    }
}

pub(super) fn relations(
    input: &syn::DeriveInput,
    cont: &Container<'_>,
    plan: &Plan,
) -> TokenStream {
    let vis = &input.vis;
    let ident = cont.ident;
    let r = quote!(::ordinance::relation);
    let consts = plan.foreign_keys.iter().map(|fk| {
        let f = &cont.fields[fk.field];
        let column = &f.column;
        let name = const_name(column);
        let field = f.ident;
        let target = &fk.references;
        let target_name = target
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let (kind, shape) = if f.attrs.unique.is_some() {
            (quote!(#r::One), "has-one: each `{P}` has at most one `{C}`")
        } else {
            (quote!(#r::Many), "has-many: each `{P}` has its `{C}`s")
        };
        let doc = format!(
            "`{column}` as a relation. Belongs-to: each `{C}`'s `{P}`; {shape}.",
            C = ident,
            P = target_name,
            shape = shape
                .replace("{P}", &target_name)
                .replace("{C}", &ident.to_string()),
        );
        quote! {
            #[doc = #doc]
            #vis const #name: #r::Relation<#ident, #target, #kind> =
                #r::Relation::new(#column, |row: &#ident| ::core::convert::Into::into(row.#field));
        }
    });
    let join = cont
        .join_pair()
        .map(|_| quote!(impl #r::JoinEntity for #ident {}));
    quote! {
        impl #ident {
            #(#consts)*
        }
        #join
    }
}
