//! The unique-key enum (`UserKey`) an upsert names as its conflict target:
//! one variant per unique index, so a key that is not one does not compile.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::ast::Container;
use crate::naming;
use crate::plan::Plan;

pub(super) fn key_enum(input: &DeriveInput, cont: &Container<'_>, plan: &Plan) -> TokenStream {
    let vis = &input.vis;
    let ident = cont.ident;
    let enum_ident = format_ident!("{}Key", ident);
    let mut variants = Vec::new();
    let mut positions = Vec::new();
    let mut docs = Vec::new();
    for (position, ix) in plan
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, ix)| ix.unique && !ix.tenant_key)
    {
        let mut name = naming::pascal_case(&ix.words.join("_"));
        while variants.iter().any(|v: &syn::Ident| *v == name) {
            name.push('_');
        }
        variants.push(format_ident!("{}", name));
        positions.push(position);
        docs.push(format!(
            "The unique index `{}` on ({}).",
            ix.name,
            ix.words.join(", ")
        ));
    }
    let doc = format!(
        "The unique keys of [`{ident}`], one per unique index: the conflict target of an upsert \
         (`Repo::upsert`, `batch::upsert_many`, `query::upsert`)."
    );
    let declaration = super::unit_enum(vis, &doc, &enum_ident, &variants, docs.into_iter());
    quote! {
        #declaration

        impl ::ordinance::UniqueKey for #enum_ident {
            fn index_position(self) -> usize {
                match self {
                    #( #enum_ident::#variants => #positions, )*
                }
            }
        }
    }
}
