//! `#[derive(DbEnum)]`: a Rust enum stored as snake_case `TEXT` values
//! with a check, or — under a policy of `types.enums = "native"` — as a
//! native enum type named after the enum.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Ctxt;
use crate::naming;

pub(crate) fn derive_db_enum(input: &DeriveInput) -> TokenStream {
    derive_db_enum_with(input, crate::policy::current())
}

/// [`derive_db_enum`] under `policy`.
pub(crate) fn derive_db_enum_with(
    input: &DeriveInput,
    policy: &Result<crate::policy::Policy, crate::policy::PolicyError>,
) -> TokenStream {
    let cx = Ctxt::new();
    let ident = &input.ident;
    let (native, tracked) = match policy {
        Ok(policy) => (policy.enums == "native", super::track(&policy.files)),
        Err(e) => {
            cx.error_with_help(ident, &e.message, &e.help);
            (false, super::track(&e.files))
        }
    };
    // The native type's name: the enum's, in snake_case.
    let type_name = naming::snake_case(&syn::ext::IdentExt::unraw(ident).to_string());
    if native && type_name.len() > 63 {
        cx.error_with_help(
            ident,
            format_args!(
                "the enum type \"{type_name}\" is {} bytes; PostgreSQL truncates names to 63",
                type_name.len()
            ),
            "give the enum a shorter name (its type is the name in snake_case, under `types.enums = \"native\"`)",
        );
    }
    let mut variants = Vec::new();
    match &input.data {
        Data::Enum(e) => {
            if e.variants.is_empty() {
                cx.error_with_help(
                    ident,
                    "a `DbEnum` needs at least one variant",
                    "add the values the column may hold, e.g. `Draft, Published`",
                );
            }
            for v in &e.variants {
                if !matches!(v.fields, Fields::Unit) {
                    cx.error_with_help(
                        v,
                        format_args!(
                            "variant `{}` carries data, but a `DbEnum` is stored as one text value",
                            v.ident
                        ),
                        format_args!("make it a unit variant: `{}`", v.ident),
                    );
                    continue;
                }
                let value = naming::snake_case(&syn::ext::IdentExt::unraw(&v.ident).to_string());
                if let Some((other, _)) = variants.iter().find(|(_, val)| *val == value) {
                    cx.error_with_help(
                        &v.ident,
                        format_args!(
                            "variants `{other}` and `{}` are both stored as \"{value}\"",
                            v.ident
                        ),
                        "rename one of them",
                    );
                }
                variants.push((&v.ident, value));
            }
        }
        _ => cx.error_with_help(
            ident,
            "`DbEnum` can only be derived for an enum",
            "write `enum Status { Draft, Published }`",
        ),
    }
    if !input.generics.params.is_empty() {
        cx.error_with_help(
            &input.generics,
            "a `DbEnum` cannot be generic",
            "remove the generic parameters",
        );
    }
    if let Err(err) = cx.check() {
        let err = err.into_compile_error();
        return quote!(#err #tracked);
    }
    let p = quote!(::ordinance::__private);
    let idents: Vec<_> = variants.iter().map(|(i, _)| *i).collect();
    let values: Vec<_> = variants.iter().map(|(_, v)| v.as_str()).collect();
    // Natively stored values carry their type, so a caller's filter
    // compares enum with enum.
    let (value, null, array, sql_type) = if native {
        (
            quote!(#p::native_enum_value(#type_name, ::ordinance::DbEnum::as_str(&value))),
            quote!(#p::native_enum_value_null(#type_name)),
            quote!(#p::sea_query::ArrayType::Enum(::std::boxed::Box::new(#type_name.into()))),
            quote!(#p::SqlType::Enum(&#p::EnumType {
                name: #type_name,
                values: <#ident as ::ordinance::DbEnum>::VALUES,
            })),
        )
    } else {
        (
            quote!(#p::enum_value(::ordinance::DbEnum::as_str(&value))),
            quote!(#p::enum_value_null()),
            quote!(#p::sea_query::ArrayType::String),
            quote!(#p::SqlType::Text),
        )
    };
    quote! {
        #tracked

        impl ::ordinance::DbEnum for #ident {
            const VALUES: &'static [&'static str] = &[ #(#values),* ];
            fn as_str(&self) -> &'static str {
                match self { #( #ident::#idents => #values, )* }
            }
            fn from_str_value(value: &str) -> ::core::option::Option<Self> {
                match value {
                    #( #values => ::core::option::Option::Some(#ident::#idents), )*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl #p::pg_types::ToSql for #ident {
            fn to_sql(
                &self,
                ty: &#p::pg_types::Type,
                out: &mut #p::pg_types::private::BytesMut,
            ) -> ::core::result::Result<#p::pg_types::IsNull, ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>> {
                #p::pg_types::ToSql::to_sql(&::ordinance::DbEnum::as_str(self), ty, out)
            }
            fn accepts(ty: &#p::pg_types::Type) -> bool {
                #p::enum_accepts(ty)
            }
            #p::pg_types::to_sql_checked!();
        }

        impl<'a> #p::pg_types::FromSql<'a> for #ident {
            fn from_sql(
                ty: &#p::pg_types::Type,
                raw: &'a [u8],
            ) -> ::core::result::Result<Self, ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>> {
                #p::enum_from_sql(ty, raw)
            }
            fn accepts(ty: &#p::pg_types::Type) -> bool {
                #p::enum_accepts(ty)
            }
        }

        impl ::core::convert::From<#ident> for #p::sea_query::Value {
            fn from(value: #ident) -> Self {
                #value
            }
        }

        impl #p::sea_query::Nullable for #ident {
            fn null() -> #p::sea_query::Value {
                #null
            }
        }

        impl #p::sea_query::ValueType for #ident {
            fn try_from(value: #p::sea_query::Value) -> ::core::result::Result<Self, #p::sea_query::ValueTypeErr> {
                #p::enum_from_value(value)
            }
            fn type_name() -> ::std::string::String {
                ::std::string::String::from(::core::stringify!(#ident))
            }
            fn array_type() -> #p::sea_query::ArrayType {
                #array
            }
            fn column_type() -> #p::sea_query::ColumnType {
                #p::sea_query::ColumnType::Text
            }
        }

        impl #p::ColumnType for #ident {
            const SQL_TYPE: #p::SqlType = #sql_type;
            const ALLOWED_VALUES: &'static [&'static str] = <#ident as ::ordinance::DbEnum>::VALUES;
        }
    }
}
