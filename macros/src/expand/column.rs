//! The column enum (`UserColumn`) that names columns in sea-query expressions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::DeriveInput;

use crate::ast::Container;

/// `display_name` -> `DisplayName`.
fn variant_ident(field: &syn::Ident) -> syn::Ident {
    let name = crate::naming::pascal_case(&field.unraw().to_string());
    format_ident!("{}", name, span = field.span())
}

pub(super) fn column_enum(input: &DeriveInput, cont: &Container<'_>) -> TokenStream {
    let vis = &input.vis;
    let ident = cont.ident;
    let enum_ident = format_ident!("{}Column", ident);
    let variants: Vec<_> = cont.fields.iter().map(|f| variant_ident(f.ident)).collect();
    let docs = cont
        .fields
        .iter()
        .map(|f| format!("The `{}` column.", f.column));
    let doc = format!(
        "The columns of [`{ident}`] (table `{}`), for sea-query expressions.",
        cont.table
    );
    let declaration = super::unit_enum(vis, &doc, &enum_ident, &variants, docs);
    quote! {
        #declaration

        impl #enum_ident {
            /// Every column, in field order.
            pub const ALL: &'static [#enum_ident] = &[ #( #enum_ident::#variants ),* ];

            /// The column name.
            pub fn name(self) -> &'static str {
                ::ordinance::__private::column_name(
                    <#ident as ::ordinance::Entity>::SCHEMA,
                    self as usize,
                )
            }
        }

        impl ::ordinance::__private::sea_query::Iden for #enum_ident {
            fn quoted(&self) -> ::ordinance::__private::Cow<'static, str> {
                ::ordinance::__private::Cow::Borrowed(self.name())
            }
            fn unquoted(&self) -> &str {
                self.name()
            }
        }
    }
}
