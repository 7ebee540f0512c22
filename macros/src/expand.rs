//! Code generation. Kept small on purpose: a static schema description plus
//! thin glue; all behaviour lives in the runtime, driven by the schema.

mod column;
mod db_enum;
mod embed;
mod inputs;
mod key;
mod order;
mod relation;
mod schema;
mod serial;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::Container;
use crate::check;
use crate::ctxt::Ctxt;
use crate::plan::Plan;

pub(crate) use db_enum::derive_db_enum;
pub(crate) use embed::embed_migrations;

/// A fieldless enum the derive writes beside the entity (`UserColumn`,
/// `UserKey`): documented, comparable, hashable, never warned about when a
/// crate names only some variants.
fn unit_enum(
    vis: &syn::Visibility,
    doc: &str,
    ident: &syn::Ident,
    variants: &[syn::Ident],
    docs: impl Iterator<Item = String>,
) -> TokenStream {
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy,
                 ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash)]
        #vis enum #ident {
            #( #[doc = #docs] #variants, )*
        }
    }
}

/// The policy used when the team's cannot be read (its error is reported).
static DEFAULT_POLICY: std::sync::LazyLock<crate::policy::Policy> =
    std::sync::LazyLock::new(crate::policy::Policy::default);

/// Makes the crate depend on the manifests the policy was read from, so
/// that changing the policy compiles the entities again.
pub(crate) fn track(files: &[std::path::PathBuf]) -> TokenStream {
    let files = files.iter().filter_map(|f| f.to_str());
    quote! { #( const _: &[u8] = ::core::include_bytes!(#files); )* }
}

/// `#[derive(Entity)]`: checks every convention, then writes the schema and glue.
///
/// When any rule is broken, the errors are emitted together with a fallback
/// implementation, so the user sees the convention errors only and not a
/// second wave of "`Entity` is not implemented" at every use.
pub(crate) fn derive_entity(input: &DeriveInput) -> TokenStream {
    derive_entity_with(input, cfg!(feature = "serde"), crate::policy::current())
}

/// [`derive_entity`] under `policy`, writing the serde impls or not.
pub(crate) fn derive_entity_with(
    input: &DeriveInput,
    serde: bool,
    policy: &Result<crate::policy::Policy, crate::policy::PolicyError>,
) -> TokenStream {
    let cx = Ctxt::new();
    let Some(cont) = Container::from_ast(&cx, input) else {
        return match cx.check() {
            Err(err) => err.into_compile_error(),
            Ok(()) => TokenStream::new(),
        };
    };
    let (policy, tracked) = match policy {
        Ok(policy) => (policy, track(&policy.files)),
        Err(e) => {
            cx.error_with_help(cont.ident, &e.message, &e.help);
            (&*DEFAULT_POLICY, track(&e.files))
        }
    };
    let plan = Plan::new(&cx, &cont, &policy.naming);
    check::check(&cx, &cont, &plan, policy);
    let columns = column::column_enum(input, &cont);
    let keys = key::key_enum(input, &cont, &plan);
    let orders = order::order_enum(&cx, input, &cont);
    let debug = schema::redacted_debug(&cont);
    match cx.check() {
        Ok(()) => {
            let schema = schema::entity_impl(&cont, &plan, policy);
            let new = inputs::new_struct(input, &cont, true, serde);
            let patch = inputs::patch_struct(input, &cont, true, serde);
            let relations = relation::relations(input, &cont, &plan);
            let serde = serde.then(|| {
                let fields: Vec<_> = cont.fields.iter().collect();
                let order = quote::format_ident!("{}Order", cont.ident);
                let ser = serial::serialize(cont.ident, &fields, inputs::Wrap::Plain);
                let de = serial::deserialize_entity(cont.ident, &fields);
                let order = serial::order(&order);
                quote! { #ser #de #order }
            });
            quote! { #tracked #columns #keys #orders #schema #new #patch #relations #debug #serde }
        }
        Err(err) => {
            let errors = err.into_compile_error();
            let fallback = schema::fallback_impl(&cont);
            let new = inputs::new_struct(input, &cont, false, false);
            let patch = inputs::patch_struct(input, &cont, false, false);
            quote! { #errors #tracked #columns #keys #orders #new #patch #fallback #debug }
        }
    }
}
