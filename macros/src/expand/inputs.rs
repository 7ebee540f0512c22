//! The structs an application writes rows with: `New{Entity}` (an insert:
//! every business column) and `{Entity}Patch` (a partial update: each
//! business column optional). Both derive `Clone`, get a `Debug` that
//! redacts sensitive columns, and take the derives the entity asks for
//! (`derive_new(...)`, `derive_patch(...)`); the checks of their values are
//! written here too.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::ast::{Container, Field};

/// How a struct holds a business field: as the entity does, or optional
/// (a patch).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Wrap {
    Plain,
    Optional,
}

/// Fields the application writes: all but `id` and the columns the kit
/// and the database maintain.
pub(super) fn business_fields<'c, 'a>(
    cont: &'c Container<'a>,
) -> impl Iterator<Item = &'c Field<'a>> {
    cont.fields
        .iter()
        .filter(|f| !cont.is_maintained(&f.column))
}

/// `check_values` for the business fields whose columns have limits
/// (`min_len` / `max_len`, `min` / `max`, `precision`): every field is
/// checked and every problem reported together; a patch checks the fields
/// it sets. Nothing when no field has limits, so the trait's no-op stays.
pub(super) fn check_values(cont: &Container<'_>, entity: TokenStream, wrap: Wrap) -> TokenStream {
    let p = quote!(::ordinance::__private);
    let some = quote!(::core::option::Option::Some);
    let checks: Vec<TokenStream> = checked_fields(cont)
        .map(|(i, f)| {
            let ident = f.ident;
            let limits = field_limits(f);
            let pattern = match (wrap, f.col.nullable) {
                (Wrap::Plain, false) => None,
                (Wrap::Plain, true) | (Wrap::Optional, false) => Some(quote!(#some(value))),
                (Wrap::Optional, true) => Some(quote!(#some(#some(value)))),
            };
            match pattern {
                Some(pattern) => quote! {
                    if let #pattern = &self.#ident {
                        checker.field(value, #i, #limits);
                    }
                },
                None => quote!(checker.field(&self.#ident, #i, #limits);),
            }
        })
        .collect();
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn check_values(&self) -> #p::Result<()> {
            let mut checker = #p::Checker::new(<#entity as ::ordinance::Entity>::SCHEMA);
            #(#checks)*
            checker.finish()
        }
    }
}

/// The business fields whose columns declare limits, with their positions.
fn checked_fields<'c, 'a>(cont: &'c Container<'a>) -> impl Iterator<Item = (usize, &'c Field<'a>)> {
    cont.fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !cont.is_maintained(&f.column))
        .filter(|(_, f)| {
            let a = &f.attrs;
            a.precision.is_some()
                || a.min_len.is_some()
                || a.max_len.is_some()
                || a.min.is_some()
                || a.max.is_some()
        })
}

/// The bounds a field declares, as a `Limits` constant.
fn field_limits(f: &Field<'_>) -> TokenStream {
    fn opt<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
        match v {
            Some(v) => quote!(::core::option::Option::Some(#v)),
            None => quote!(::core::option::Option::None),
        }
    }
    let a = &f.attrs;
    let min_len = opt(a.min_len.as_ref().map(|v| v.value));
    let max_len = opt(a.max_len.as_ref().map(|v| v.value));
    let min = opt(a.min.as_ref().map(|v| v.value));
    let max = opt(a.max.as_ref().map(|v| v.value));
    quote! {
        ::ordinance::__private::Limits {
            min_len: #min_len, max_len: #max_len, min: #min, max: #max,
        }
    }
}

/// `where for<'__o> Field: Trait, ...`: bounds on the field types that
/// hold or not without failing the build (a bound with a higher-ranked
/// lifetime is checked where the impl is used, not where it is written),
/// so a field of a type without `Clone` or `Debug` only takes those
/// traits away from the input struct.
fn field_bounds(cont: &Container<'_>, bound: TokenStream) -> TokenStream {
    let types = business_fields(cont).map(|f| f.ty);
    quote!(where #( for<'__o> #types: #bound, )*)
}

/// `Clone` of an input struct, field by field, when every field type is
/// `Clone`.
fn field_clone(cont: &Container<'_>, ident: &syn::Ident) -> TokenStream {
    let bounds = field_bounds(cont, quote!(::core::clone::Clone));
    let idents = business_fields(cont).map(|f| f.ident);
    quote! {
        impl ::core::clone::Clone for #ident #bounds {
            fn clone(&self) -> Self {
                #ident { #( #idents: ::core::clone::Clone::clone(&self.#idents), )* }
            }
        }
    }
}

/// `Debug` of an input struct, when every field type is `Debug`: the
/// derived shape, with each sensitive value shown as `<redacted>` (a patch
/// still shows whether it is set).
fn redacting_debug(cont: &Container<'_>, ident: &syn::Ident, wrap: Wrap) -> TokenStream {
    let name = ident.to_string();
    let bounds = field_bounds(cont, quote!(::core::fmt::Debug));
    let fields = business_fields(cont).map(|f| {
        let fident = f.ident;
        let label = f.ident.unraw().to_string();
        let redacted = quote!(::ordinance::__private::RedactedValue);
        match (f.attrs.sensitive.is_some(), wrap) {
            (false, _) => quote!(.field(#label, &self.#fident)),
            (true, Wrap::Plain) => quote!(.field(#label, &#redacted)),
            (true, Wrap::Optional) => {
                quote!(.field(#label, &self.#fident.as_ref().map(|_| #redacted)))
            }
        }
    });
    quote! {
        impl ::core::fmt::Debug for #ident #bounds {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name) #(#fields)* .finish()
            }
        }
    }
}

/// A struct of the business fields, each as `wrap` says, with its docs,
/// `Clone` and the redacting `Debug` (where the field types allow them),
/// and the entity's extra derives.
fn input_struct(
    vis: &syn::Visibility,
    cont: &Container<'_>,
    ident: &syn::Ident,
    doc: &str,
    wrap: Wrap,
    derives: &[syn::Path],
    serde: bool,
) -> TokenStream {
    let fields = business_fields(cont).map(|f| {
        let fvis = &f.vis;
        let fident = f.ident;
        let ty = f.ty;
        let doc = f.attrs.doc.iter();
        let serde = serde.then(|| super::serial::deserialize_field(f, wrap));
        match wrap {
            Wrap::Plain => quote!(#(#[doc = #doc])* #serde #fvis #fident: #ty),
            Wrap::Optional => {
                let leave = if f.col.nullable {
                    "`None` leaves the column as it is; `Some(None)` sets it to NULL."
                } else {
                    "`None` leaves the column as it is."
                };
                quote!(#(#[doc = #doc])* #[doc = ""] #[doc = #leave] #serde #fvis #fident: ::core::option::Option<#ty>)
            }
        }
    });
    let default = (wrap == Wrap::Optional).then(|| quote!(#[derive(::core::default::Default)]));
    let clone = field_clone(cont, ident);
    let debug = redacting_debug(cont, ident, wrap);
    let extra = (!derives.is_empty()).then(|| quote!(#[derive(#(#derives),*)]));
    let (deserialize, serialize) = if serde {
        let business: Vec<&Field<'_>> = business_fields(cont).collect();
        // A client's field the struct does not have is refused, not
        // dropped; a patch's absent field is left alone.
        let options = match wrap {
            Wrap::Plain => quote!(, deny_unknown_fields),
            Wrap::Optional => quote!(, deny_unknown_fields, default),
        };
        (
            Some(super::serial::deserialize_container(&business, options)),
            Some(super::serial::serialize(ident, &business, wrap)),
        )
    } else {
        (None, None)
    };
    quote! {
        #[doc = #doc]
        #default
        #extra
        #deserialize
        #vis struct #ident { #(#fields,)* }
        #clone
        #debug
        #serialize
    }
}

/// `New{Entity}`: the business fields, what an insert takes.
pub(super) fn new_struct(
    input: &syn::DeriveInput,
    cont: &Container<'_>,
    with_impl: bool,
    serde: bool,
) -> TokenStream {
    let ident = cont.ident;
    let new_ident = format_ident!("New{}", ident);
    let doc = format!(
        "A [`{ident}`] to insert: its business columns. The id (UUIDv7 unless given), \
         timestamps, version and soft-delete marker are filled in by the kit and the database."
    );
    let declaration = input_struct(
        &input.vis,
        cont,
        &new_ident,
        &doc,
        Wrap::Plain,
        &cont.attrs.derive_new,
        serde && with_impl,
    );
    let idents = business_fields(cont).map(|f| f.ident);
    let check = check_values(cont, quote!(#ident), Wrap::Plain);
    let imp = with_impl.then(|| {
        quote! {
            impl ::ordinance::NewEntity for #new_ident {
                type Entity = #ident;
                fn bind_business<'a>(&'a self, out: &mut ::ordinance::__private::Params<'a>) {
                    out.extend_from_slice(&[#(&self.#idents as ::ordinance::__private::SqlParam<'_>),*]);
                }
                #check
            }
        }
    });
    quote! {
        #declaration
        #imp
    }
}

/// `{Entity}Patch`: each business field optional, what `Repo::patch`
/// writes.
pub(super) fn patch_struct(
    input: &syn::DeriveInput,
    cont: &Container<'_>,
    with_impl: bool,
    serde: bool,
) -> TokenStream {
    let ident = cont.ident;
    let patch_ident = format_ident!("{}Patch", ident);
    let doc = format!(
        "Changes to a [`{ident}`]: each business column it sets (`Some`) is written by \
         `Repo::patch`, checked against the version the caller saw; the others are left \
         as they are. The id, timestamps, version and soft-delete marker are the kit's."
    );
    let declaration = input_struct(
        &input.vis,
        cont,
        &patch_ident,
        &doc,
        Wrap::Optional,
        &cont.attrs.derive_patch,
        serde && with_impl,
    );
    let p = quote!(::ordinance::__private);
    let idents: Vec<&syn::Ident> = business_fields(cont).map(|f| f.ident).collect();
    // Spanned at each field, so a type that cannot be bound is reported
    // where it is written.
    let binds = business_fields(cont).enumerate().map(|(k, f)| {
        let fident = f.ident;
        quote::quote_spanned!(syn::spanned::Spanned::span(f.ty)=>
            #p::patch_field(&self.#fident, #k, set, out);
        )
    });
    let check = check_values(cont, quote!(#ident), Wrap::Optional);
    let imp = with_impl.then(|| {
        quote! {
            impl ::ordinance::Patch for #patch_ident {
                type Entity = #ident;
                fn bind_set<'a>(&'a self, set: &mut #p::ColumnSet, out: &mut #p::Params<'a>) {
                    #( #binds )*
                }
                fn is_empty(&self) -> bool {
                    true #( && self.#idents.is_none() )*
                }
                #check
            }
        }
    });
    quote! {
        #declaration
        #imp
    }
}
