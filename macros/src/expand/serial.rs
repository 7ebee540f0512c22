//! `Serialize` / `Deserialize` (the `serde` feature): for the entity, its
//! `New…` and `…Patch` structs and its keyset orders. Serializing goes
//! through the runtime's `SerializeFields`, which leaves sensitive columns
//! out unless revealed and a patch's unset fields out always;
//! deserializing is serde's own derive, with the runtime's helpers for
//! `Json<T>` columns and for a patch's "absent, null or set".
//!
//! Every bound on a field type is written with a higher-ranked lifetime,
//! so a field type without serde support takes serde away from the struct
//! instead of failing the build.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;

use super::inputs::Wrap;
use crate::ast::Field;
use crate::pg_type;

fn private() -> TokenStream {
    quote!(::ordinance::__private)
}

/// `SerializeFields` and `Serialize` for a struct of `fields`.
pub(super) fn serialize(ident: &syn::Ident, fields: &[&Field<'_>], wrap: Wrap) -> TokenStream {
    let p = private();
    let name = ident.to_string();
    let mut always = 0usize;
    let mut counts = Vec::new();
    let mut writes = Vec::new();
    let mut bounds = Bounds::default();
    for f in fields {
        let fident = f.ident;
        let label = f.ident.unraw().to_string();
        let json = pg_type::is_json_wrapper(f.ty);
        let value = match (json, wrap, f.col.nullable) {
            (false, _, _) => quote!(&self.#fident),
            (true, Wrap::Plain, false) => quote!(&#p::SerJson(&self.#fident)),
            (true, Wrap::Plain, true) | (true, Wrap::Optional, false) => {
                quote!(&self.#fident.as_ref().map(#p::SerJson))
            }
            (true, Wrap::Optional, true) => {
                quote!(&self.#fident.as_ref().map(|v| v.as_ref().map(#p::SerJson)))
            }
        };
        let shown = match (wrap, f.attrs.sensitive.is_some()) {
            (Wrap::Plain, false) => None,
            (Wrap::Plain, true) => Some(quote!(reveal)),
            (Wrap::Optional, false) => Some(quote!(self.#fident.is_some())),
            (Wrap::Optional, true) => Some(quote!(reveal && self.#fident.is_some())),
        };
        writes.push(match &shown {
            None => quote!(st.serialize_field(#label, #value)?;),
            Some(shown) => quote! {
                if #shown {
                    st.serialize_field(#label, #value)?;
                } else {
                    st.skip_field(#label)?;
                }
            },
        });
        match shown {
            None => always += 1,
            Some(shown) => counts.push(quote!(usize::from(#shown))),
        }
        if !json {
            bounds.add(f.ty);
        }
    }
    let bounds = bounds.of(quote!(#p::serde::Serialize));
    quote! {
        impl #p::SerializeFields for #ident #bounds {
            fn serialize_fields<__S: #p::serde::Serializer>(
                &self,
                serializer: __S,
                reveal: bool,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                use #p::serde::ser::SerializeStruct as _;
                let _ = reveal;
                let len = #always #( + #counts )*;
                let mut st = serializer.serialize_struct(#name, len)?;
                #( #writes )*
                st.end()
            }
        }
        impl #p::serde::Serialize for #ident #bounds {
            fn serialize<__S: #p::serde::Serializer>(
                &self,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                #p::SerializeFields::serialize_fields(self, serializer, false)
            }
        }
    }
}

/// The field types a serde impl needs a trait of, each once, as
/// higher-ranked bounds.
#[derive(Default)]
struct Bounds<'a> {
    types: Vec<&'a syn::Type>,
    seen: std::collections::HashSet<String>,
}

impl<'a> Bounds<'a> {
    fn add(&mut self, ty: &'a syn::Type) {
        if self.seen.insert(ty.to_token_stream().to_string()) {
            self.types.push(ty);
        }
    }

    /// `where for<'__o> T: Trait, ...`, or nothing.
    fn of(&self, bound: TokenStream) -> TokenStream {
        if self.types.is_empty() {
            return TokenStream::new();
        }
        let types = &self.types;
        quote!(where #( for<'__o> #types: #bound, )*)
    }

    /// The same, as the text of serde's `bound(deserialize = "...")`.
    fn text(&self) -> String {
        self.types
            .iter()
            .map(|ty| {
                let ty = ty.to_token_stream();
                format!("for<'__o> {ty}: ::ordinance::__private::serde::Deserialize<'de>")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn deserialize_bounds<'a>(fields: &[&'a Field<'_>]) -> Bounds<'a> {
    let mut bounds = Bounds::default();
    for f in fields.iter().filter(|f| !pg_type::is_json_wrapper(f.ty)) {
        bounds.add(f.ty);
    }
    bounds
}

/// The `#[serde(crate, bound, ...)]` attribute on a struct that derives
/// `Deserialize`; `extra` adds container options (`deny_unknown_fields`,
/// `default`).
pub(super) fn deserialize_container(fields: &[&Field<'_>], extra: TokenStream) -> TokenStream {
    let p = private();
    let bound = deserialize_bounds(fields).text();
    quote! {
        #[derive(#p::serde::Deserialize)]
        #[serde(crate = "::ordinance::__private::serde", bound(deserialize = #bound) #extra)]
    }
}

/// The `#[serde(...)]` attribute of one field of a struct that derives
/// `Deserialize`: a patch's field is set when present (`null` setting a
/// nullable column to NULL), a `Json<T>` column reads its document as `T`.
pub(super) fn deserialize_field(f: &Field<'_>, wrap: Wrap) -> TokenStream {
    let json = pg_type::is_json_wrapper(f.ty);
    let with = match (wrap, json, f.col.nullable) {
        (Wrap::Plain, false, _) => return TokenStream::new(),
        (Wrap::Plain, true, false) => "json",
        (Wrap::Plain, true, true) => "json_or_null",
        (Wrap::Optional, false, false) => "set",
        (Wrap::Optional, false, true) => "set_or_null",
        (Wrap::Optional, true, false) => "set_json",
        (Wrap::Optional, true, true) => "set_json_or_null",
    };
    let with = format!("::ordinance::__private::{with}");
    if wrap == Wrap::Plain && !f.col.nullable {
        quote!(#[serde(deserialize_with = #with)])
    } else {
        // Absent: NULL for a nullable column, "leave it" for a patch.
        quote!(#[serde(default, deserialize_with = #with)])
    }
}

/// `Deserialize` for the entity, through a private struct of the same
/// fields that derives it.
pub(super) fn deserialize_entity(ident: &syn::Ident, fields: &[&Field<'_>]) -> TokenStream {
    let p = private();
    let name = ident.to_string();
    let container = deserialize_container(fields, quote!(, rename = #name));
    let idents: Vec<&syn::Ident> = fields.iter().map(|f| f.ident).collect();
    let types = fields.iter().map(|f| f.ty);
    let attrs = fields.iter().map(|f| deserialize_field(f, Wrap::Plain));
    let bounds = deserialize_bounds(fields).of(quote!(#p::serde::Deserialize<'de>));
    quote! {
        const _: () = {
            #container
            struct Fields { #( #attrs #idents: #types, )* }

            impl<'de> #p::serde::Deserialize<'de> for #ident #bounds {
                fn deserialize<__D: #p::serde::Deserializer<'de>>(
                    deserializer: __D,
                ) -> ::core::result::Result<Self, __D::Error> {
                    let fields = <Fields as #p::serde::Deserialize>::deserialize(deserializer)?;
                    ::core::result::Result::Ok(#ident { #( #idents: fields.#idents, )* })
                }
            }
        };
    }
}

/// `Serialize` / `Deserialize` of a keyset-order enum, by name.
pub(super) fn order(ident: &syn::Ident) -> TokenStream {
    let p = private();
    quote! {
        impl #p::serde::Serialize for #ident {
            fn serialize<__S: #p::serde::Serializer>(
                &self,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                #p::serialize_order(*self, serializer)
            }
        }
        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<__D: #p::serde::Deserializer<'de>>(
                deserializer: __D,
            ) -> ::core::result::Result<Self, __D::Error> {
                #p::deserialize_order(deserializer)
            }
        }
    }
}
