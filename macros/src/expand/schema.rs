//! The `Entity` implementation: the table's static schema as one constant.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Field};
use crate::attr::{OnDelete, Waiver};
use crate::naming::{self, NameKind, Naming};
use crate::pg_type::Kind;
use crate::plan::{CheckKind, KeyFn, Plan};
use crate::policy::Policy;
use crate::symbol::{BACKFILL, DEFAULT};
use crate::value;

fn opt_str(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn waivers(list: &[Waiver]) -> TokenStream {
    let items = waiver_items(list);
    quote!(&[ #(#items),* ])
}

fn waiver_items(list: &[Waiver]) -> Vec<TokenStream> {
    list.iter()
        .map(|w| {
            let rule = w.rule.0;
            let reason = &w.reason;
            quote!(::ordinance::__private::Waiver { rule: #rule, reason: #reason })
        })
        .collect()
}

fn column(
    f: &Field<'_>,
    tenant: bool,
    outbox: bool,
    partitioned: bool,
    assertions: &mut Vec<TokenStream>,
) -> TokenStream {
    let name = &f.column;
    let field = syn::ext::IdentExt::unraw(f.ident).to_string();
    let ty = f.col.inner;
    let p = quote!(::ordinance::__private);
    let sql_type = match (&f.attrs.precision, &f.attrs.scale) {
        (Some(prec), scale) => {
            let prec = prec.value;
            let scale = match scale {
                Some(s) => {
                    let s = s.value;
                    quote!(::core::option::Option::Some(#s))
                }
                None => quote!(::core::option::Option::None),
            };
            let numeric = quote!(#p::SqlType::Numeric { precision: ::core::option::Option::Some(#prec), scale: #scale });
            if f.col.element.is_some() {
                quote!(#p::SqlType::Array(&#numeric))
            } else {
                numeric
            }
        }
        _ => quote_spanned!(ty.span()=> <#ty as #p::ColumnType>::SQL_TYPE),
    };
    let nullable = f.col.nullable;
    let some = |t: TokenStream| quote!(::core::option::Option::Some(#t));
    let backfill = match &f.attrs.backfill {
        Some(v) => some(value::tokens(f, BACKFILL, v, assertions)),
        None => quote!(::core::option::Option::None),
    };
    let default = match name.as_str() {
        _ if f.attrs.default.is_some() => {
            let v = f
                .attrs
                .default
                .as_ref()
                .map(|v| value::tokens(f, DEFAULT, v, assertions));
            some(v.unwrap_or_default())
        }
        // A partitioned table's rows go by the time in their id.
        "id" if partitioned => some(quote!(#p::ColumnDefault::TimeUuid)),
        "id" => quote!(::core::option::Option::Some(#p::ColumnDefault::RandomUuid)),
        "tenant_id" if tenant => some(quote!(#p::ColumnDefault::Setting(#p::TENANT_SETTING))),
        "created_by" | "updated_by" => some(quote!(#p::ColumnDefault::Setting(#p::ACTOR_SETTING))),
        "created_at" | "updated_at" => quote!(::core::option::Option::Some(#p::ColumnDefault::Now)),
        // An outbox's event is available at once, not yet tried, when
        // written by hand.
        "attempts" if outbox => some(quote!(#p::ColumnDefault::Integer(0))),
        "available_at" if outbox => some(quote!(#p::ColumnDefault::Now)),
        "version" if f.col.is(Kind::Integer) => {
            quote!(::core::option::Option::Some(#p::ColumnDefault::Integer(1)))
        }
        _ if nullable => quote!(::core::option::Option::None),
        _ => quote!(<#ty as #p::ColumnType>::DEFAULT),
    };
    let comment = opt_str(&f.attrs.doc);
    let waivers = waivers(&f.attrs.waivers);
    let sensitive = f.attrs.sensitive.is_some();
    let renamed_from = opt_str(&f.attrs.renamed_from.as_ref().map(|r| r.value.clone()));
    quote! {
        #p::Column {
            name: #name,
            renamed_from: #renamed_from,
            field: #field,
            sql_type: #sql_type,
            nullable: #nullable,
            default: #default,
            backfill: #backfill,
            comment: #comment,
            waivers: #waivers,
            sensitive: #sensitive,
        }
    }
}

fn index_columns(cont: &Container<'_>, cols: &[(usize, bool)], functions: &[KeyFn]) -> TokenStream {
    let p = quote!(::ordinance::__private);
    let items = cols.iter().enumerate().map(|(n, (i, desc))| {
        let name = &cont.fields[*i].column;
        let function = match functions.get(n).unwrap_or(&KeyFn::Plain) {
            KeyFn::Plain => quote!(::core::option::Option::None),
            KeyFn::Lower => quote!(::core::option::Option::Some(#p::IndexFunction::Lower)),
            KeyFn::Json { path, as_type } => {
                let as_type = if *as_type == "Numeric" {
                    quote!(#p::SqlType::Numeric { precision: ::core::option::Option::None, scale: ::core::option::Option::None })
                } else {
                    let variant = format_ident!("{}", as_type);
                    quote!(#p::SqlType::#variant)
                };
                quote!(::core::option::Option::Some(#p::IndexFunction::JsonField {
                    path: &[ #(#path),* ],
                    as_type: #as_type,
                }))
            }
        };
        quote!(#p::IndexColumn { name: #name, descending: #desc, function: #function })
    });
    quote!(&[ #(#items),* ])
}

pub(super) fn entity_impl(cont: &Container<'_>, plan: &Plan, policy: &Policy) -> TokenStream {
    let p = quote!(::ordinance::__private);
    let ident = cont.ident;
    let table = &cont.table;
    let struct_name = ident.to_string();
    let comment = opt_str(&cont.attrs.doc);
    let pg_schema = opt_str(&cont.attrs.schema.as_ref().map(|s| s.value.clone()));
    let mut assertions = Vec::new();
    let columns: Vec<TokenStream> = cont
        .fields
        .iter()
        .map(|f| {
            let partitioned = cont.partitioned().is_some();
            column(
                f,
                cont.tenant(),
                cont.outbox(),
                partitioned,
                &mut assertions,
            )
        })
        .collect();
    let pkey = &plan.primary_key;
    let column_enum = format_ident!("{}Column", ident);

    let tenant = cont.tenant();
    let history = cont.history();
    let aggregate_root = cont.aggregate_root();
    let fks: Vec<TokenStream> = plan.foreign_keys.iter().map(|fk| {
        let name = &fk.name;
        let field = &cont.fields[fk.field];
        let column = &field.column;
        let target = &fk.references;
        let target_is_tenant = quote_spanned!(target.span()=> <#target as ::ordinance::Entity>::TENANT);
        // Which tables are tenant tables is known only once every entity
        // is: asked of the referenced entity at compile time.
        match (tenant, field.waiver(crate::symbol::TENANT_REFERENCE)) {
            (false, None) => {
                let msg = format!(
                    "\"{column}\" of \"{table}\" references a tenant table, but \"{table}\" is not one: \
                     row-level security keeps each tenant's rows apart, and a shared row pointing into one \
                     tenant's rows breaks that. Make \"{table}\" a tenant table (#[entity(tenant)] and a \
                     `tenant_id: Uuid` field), or waive the rule with a reason: \
                     #[column(references = ..., exempt(tenant_reference = \"why\"))]"
                );
                assertions.push(quote_spanned! {target.span()=>
                    const _: () = ::core::assert!(!#target_is_tenant, #msg);
                });
            }
            (false, Some(_)) => {
                let msg = format!(
                    "\"{column}\" of \"{table}\" waives `tenant_reference`, but what it references is not \
                     a tenant table: remove `tenant_reference = ...` from `exempt(...)`"
                );
                assertions.push(quote_spanned! {target.span()=>
                    const _: () = ::core::assert!(#target_is_tenant, #msg);
                });
            }
            (true, _) => {}
        }
        // Between two tenant tables the key carries `tenant_id` on both
        // sides (a tenant table's own `tenant_id` may reference a table of
        // tenants, which is not one).
        let within_tenant = if tenant && column != "tenant_id" {
            target_is_tenant
        } else {
            quote!(false)
        };
        let on_delete = match fk.on_delete {
            OnDelete::Restrict => quote!(Restrict),
            OnDelete::Cascade => quote!(Cascade),
            OnDelete::SetNull => quote!(SetNull),
        };
        let aggregate = field.attrs.aggregate.is_some();
        if aggregate {
            let msg = format!(
                "\"{column}\" of \"{table}\" is marked `aggregate`, but what it references is not an \
                 aggregate root: add #[entity(aggregate_root)] to it, or drop `aggregate`"
            );
            assertions.push(quote_spanned! {target.span()=>
                const _: () = ::core::assert!(<#target as ::ordinance::Entity>::SCHEMA.aggregate_root, #msg);
            });
        }
        let references = quote_spanned!(target.span()=> <#target as ::ordinance::Entity>::TABLE);
        if let Some(derived) = &fk.referenced_table {
            let msg = format!(
                "the foreign key name \"{name}\" of \"{column}\" uses the referenced table's name as \
                 derived from its struct (\"{derived}\"), but that entity's table is named otherwise: \
                 leave `{{referenced_table}}` out of the `foreign_key` naming template, or give the \
                 referenced entity its derived table name"
            );
            // `assert!` reads its message as a format string.
            let msg = msg.replace('{', "{{").replace('}', "}}");
            assertions.push(quote_spanned! {target.span()=>
                const _: () = ::core::assert!(#p::const_str_eq(#references, #derived), #msg);
            });
        }
        let references_schema =
            quote_spanned!(target.span()=> <#target as ::ordinance::Entity>::SCHEMA_NAME);
        quote! {
            #p::ForeignKey {
                name: #name,
                column: #column,
                references: #references,
                references_schema: #references_schema,
                on_delete: #p::OnDelete::#on_delete,
                within_tenant: #within_tenant,
                aggregate: #aggregate,
            }
        }
    }).collect();

    let checks: Vec<_> = plan
        .checks
        .iter()
        .map(|c| {
            let name = &c.name;
            let f = &cont.fields[c.field];
            let column = &f.column;
            let kind = match c.kind {
                CheckKind::MinLength(n) => quote!(MinLength(#n)),
                CheckKind::MaxLength(n) => quote!(MaxLength(#n)),
                CheckKind::Min(n) => quote!(Min(#n)),
                CheckKind::Max(n) => quote!(Max(#n)),
                CheckKind::NoNullElements => quote!(NoNullElements),
                CheckKind::OneOf => {
                    let ty = f.col.inner;
                    if !naming::fits(name) {
                        // Only an enum column gets this constraint, and only the
                        // type knows whether it is one: ask it at compile time.
                        let msg = format!(
                            "check constraint name \"{name}\" is {} bytes long; PostgreSQL truncates identifiers to 63 bytes. \
                             Shorten the table name or the column name with #[column(name = \"...\")]",
                            name.len()
                        );
                        assertions.push(quote_spanned! {ty.span()=>
                            const _: () = ::core::assert!(
                                <#ty as #p::ColumnType>::ALLOWED_VALUES.is_empty(),
                                #msg
                            );
                        });
                    }
                    quote!(OneOf(<#ty as #p::ColumnType>::ALLOWED_VALUES))
                }
            };
            quote!(#p::Check { name: #name, column: #column, kind: #p::CheckKind::#kind })
        })
        .collect();

    let indexes: Vec<TokenStream> = plan
        .indexes
        .iter()
        .map(|ix| {
            let name = &ix.name;
            let cols = index_columns(cont, &ix.columns, &ix.functions);
            let unique = ix.unique;
            let live_only = ix.live_only;
            let method = if ix.gin {
                for (i, _) in &ix.columns {
                    let f = &cont.fields[*i];
                    let ty = f.col.inner;
                    let msg = format!(
                        "`using = \"gin\"` indexes JSONB and array columns, but \"{}\" is neither",
                        f.column
                    );
                    assertions.push(quote_spanned! {ix.tokens.span()=>
                        const _: () = ::core::assert!(
                            #p::takes_empty_array(<#ty as #p::ColumnType>::SQL_TYPE),
                            #msg
                        );
                    });
                }
                quote!(#p::IndexMethod::Gin)
            } else {
                quote!(#p::IndexMethod::BTree)
            };
            let include = ix.include.iter().map(|i| &cont.fields[*i].column);
            let predicate: Vec<TokenStream> = ix
                .predicate
                .iter()
                .map(|(i, v, tokens)| {
                    let f = &cont.fields[*i];
                    let column = &f.column;
                    let value = crate::attr::Spanned {
                        value: v.clone(),
                        tokens: tokens.clone(),
                    };
                    let value = value::tokens(f, crate::symbol::WHERE, &value, &mut assertions);
                    quote!(#p::IndexCondition { column: #column, value: #value })
                })
                .collect();
            quote! {
                #p::Index {
                    name: #name,
                    columns: #cols,
                    unique: #unique,
                    live_only: #live_only,
                    method: #method,
                    include: &[ #(#include),* ],
                    predicate: &[ #(#predicate),* ],
                }
            }
        })
        .collect();
    // A keyset text key needs a bound: `String` fields are checked by name
    // (check.rs); any other type stored as TEXT is asked at compile time,
    // and passes when it is an enum (its values are its bound).
    let mut keyed: Vec<usize> = plan
        .keysets
        .iter()
        .flat_map(|k| k.columns.iter().map(|(i, _)| *i))
        .collect();
    keyed.sort_unstable();
    keyed.dedup();
    for i in keyed {
        let f = &cont.fields[i];
        // Only a type the derive does not know may be stored as TEXT
        // (`String` fields are checked by name).
        if f.attrs.max_len.is_some() || f.col.nullable || f.col.kind != Kind::Other {
            continue;
        }
        let ty = f.col.inner;
        let msg = format!(
            "keyset column \"{}\" is stored as TEXT without a length limit, so its cursors would have no size bound; \
             add #[column(max_len = N)] to the field",
            f.column
        );
        assertions.push(quote_spanned! {ty.span()=>
            const _: () = ::core::assert!(
                !::core::matches!(<#ty as #p::ColumnType>::SQL_TYPE, #p::SqlType::Text)
                    || !<#ty as #p::ColumnType>::ALLOWED_VALUES.is_empty(),
                #msg
            );
        });
    }
    let keysets = plan
        .keysets
        .iter()
        .map(|k| index_columns(cont, &k.columns, &[]));
    let mut table_waivers = waivers(&cont.attrs.waivers);
    let outbox = cont.outbox();
    if outbox {
        // What the rule book would ask of the table, and why an outbox
        // goes without: said where the audit and the table's comment look.
        let declared = waiver_items(&cont.attrs.waivers);
        table_waivers = quote!(&[
            #(#declared,)*
            #p::Waiver { rule: "soft_delete", reason: #p::OUTBOX_NO_SOFT_DELETE },
            #p::Waiver { rule: "version", reason: #p::OUTBOX_NO_VERSION },
        ]);
        if let Some(f) = cont.field("payload") {
            let ty = f.col.inner;
            let msg = "an outbox's `payload` is JSONB: declare `pub payload: serde_json::Value`";
            assertions.push(quote_spanned! {ty.span()=>
                const _: () = ::core::assert!(
                    ::core::matches!(<#ty as #p::ColumnType>::SQL_TYPE, #p::SqlType::Jsonb),
                    #msg
                );
            });
        }
    }
    let partitioned = match cont.partitioned() {
        None => quote!(::core::option::Option::None),
        Some(part) => {
            let period = |period: &crate::attr::Period| {
                let count = period.count;
                let unit = format_ident!("{}", period.unit);
                quote!(#p::Period { count: #count, unit: #p::PeriodUnit::#unit })
            };
            let interval = period(&part.interval);
            let keep = match &part.keep {
                Some(keep) => {
                    let keep = period(keep);
                    quote!(::core::option::Option::Some(#keep))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::core::option::Option::Some(&#p::Partitioning { interval: #interval, keep: #keep }))
        }
    };
    let glue = row_glue(cont);
    let conventions = conventions_tokens(policy);

    quote! {
        #(#assertions)*

        #p::inventory::submit! {
            #p::Registered(<#ident as ::ordinance::Entity>::SCHEMA)
        }

        impl ::ordinance::Entity for #ident {
            const TABLE: &'static str = #table;
            const SCHEMA_NAME: ::core::option::Option<&'static str> = #pg_schema;
            const TENANT: bool = #tenant;
            type Column = #column_enum;
            const SCHEMA: &'static #p::TableSchema = &#p::TableSchema {
                schema: <Self as ::ordinance::Entity>::SCHEMA_NAME,
                name: #table,
                struct_name: #struct_name,
                comment: #comment,
                columns: &[ #(#columns),* ],
                primary_key: #pkey,
                foreign_keys: &[ #(#fks),* ],
                checks: &[ #(#checks),* ],
                indexes: &[ #(#indexes),* ],
                keysets: &[ #(#keysets),* ],
                waivers: #table_waivers,
                tenant: #tenant,
                history: #history,
                aggregate_root: #aggregate_root,
                outbox: #outbox,
                partitioned: #partitioned,
                conventions: #conventions,
            };
            #glue
        }
    }
}

/// Decoding, binding and the cached statements: field access only, the rest
/// is runtime code.
fn row_glue(cont: &Container<'_>) -> TokenStream {
    let p = quote!(::ordinance::__private);
    let new_ident = format_ident!("New{}", cont.ident);
    let decode = cont.fields.iter().enumerate().map(|(i, f)| {
        let ident = f.ident;
        quote!(#ident: #p::decode(row, offset, #i, <Self as ::ordinance::Entity>::SCHEMA)?)
    });
    let business = super::inputs::business_fields(cont).map(|f| f.ident);
    let version = match cont.field("version") {
        Some(_) => quote!(::core::option::Option::Some(self.version)),
        None => quote!(::core::option::Option::None),
    };
    let key_ident = format_ident!("{}Key", cont.ident);
    let order_ident = format_ident!("{}Order", cont.ident);
    let patch_ident = format_ident!("{}Patch", cont.ident);
    let check = super::inputs::check_values(cont, quote!(Self), super::inputs::Wrap::Plain);
    quote! {
        type New = #new_ident;
        type Key = #key_ident;
        type Order = #order_ident;
        type Patch = #patch_ident;
        fn statements() -> &'static #p::Statements {
            static STATEMENTS: #p::OnceLock<#p::Statements> = #p::OnceLock::new();
            STATEMENTS.get_or_init(|| #p::Statements::for_entity(<Self as ::ordinance::Entity>::SCHEMA))
        }
        fn from_row_at(row: &#p::Row, offset: usize) -> #p::Result<Self> {
            ::core::result::Result::Ok(Self { #(#decode,)* })
        }
        fn id(&self) -> ::ordinance::__private::Uuid {
            self.id
        }
        fn version(&self) -> ::core::option::Option<i32> {
            #version
        }
        fn bind_business<'a>(&'a self, out: &mut ::ordinance::__private::Params<'a>) {
            out.extend_from_slice(&[#(&self.#business as ::ordinance::__private::SqlParam<'_>),*]);
        }
        #check
    }
}

/// `Debug` for an entity with `#[column(sensitive)]` fields: like the
/// derived one, with each sensitive value shown as `<redacted>`. Nothing
/// for other entities (they derive `Debug` themselves, or not).
pub(super) fn redacted_debug(cont: &Container<'_>) -> TokenStream {
    if !cont.fields.iter().any(|f| f.attrs.sensitive.is_some()) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let name = ident.to_string();
    let fields = cont.fields.iter().map(|f| {
        let fident = f.ident;
        let label = syn::ext::IdentExt::unraw(f.ident).to_string();
        if f.attrs.sensitive.is_some() {
            quote!(.field(#label, &::ordinance::__private::RedactedValue))
        } else {
            quote!(.field(#label, &self.#fident))
        }
    });
    quote! {
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name) #(#fields)* .finish()
            }
        }
    }
}

/// Stands in for the real implementation when a convention is broken, so the
/// only errors the user sees are the convention errors.
pub(super) fn fallback_impl(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let table = &cont.table;
    let column_enum = format_ident!("{}Column", ident);
    let new_ident = format_ident!("New{}", ident);
    let key_ident = format_ident!("{}Key", ident);
    let order_ident = format_ident!("{}Order", ident);
    let patch_ident = format_ident!("{}Patch", ident);
    let p = quote!(::ordinance::__private);
    quote! {
        impl ::ordinance::NewEntity for #new_ident {
            type Entity = #ident;
            fn bind_business<'a>(&'a self, _: &mut ::ordinance::__private::Params<'a>) {
                ::core::unreachable!()
            }
        }
        impl ::ordinance::Patch for #patch_ident {
            type Entity = #ident;
            fn bind_set<'a>(&'a self, _: &mut #p::ColumnSet, _: &mut #p::Params<'a>) {
                ::core::unreachable!()
            }
            fn is_empty(&self) -> bool {
                ::core::unreachable!()
            }
        }
        impl ::ordinance::Entity for #ident {
            const TABLE: &'static str = #table;
            type Column = #column_enum;
            const SCHEMA: &'static #p::TableSchema = &#p::FALLBACK_SCHEMA;
            type New = #new_ident;
            type Key = #key_ident;
            type Order = #order_ident;
            type Patch = #patch_ident;
            fn statements() -> &'static #p::Statements {
                ::core::unreachable!()
            }
            fn from_row_at(_: &#p::Row, _: usize) -> #p::Result<Self> {
                ::core::unreachable!()
            }
            fn id(&self) -> ::ordinance::__private::Uuid {
                ::core::unreachable!()
            }
            fn version(&self) -> ::core::option::Option<i32> {
                ::core::unreachable!()
            }
            fn bind_business<'a>(&'a self, _: &mut ::ordinance::__private::Params<'a>) {
                ::core::unreachable!()
            }
        }
    }
}

/// The policy's conventions as a constant: the kit's own by name, else
/// built from their parts.
fn conventions_tokens(policy: &Policy) -> TokenStream {
    let p = quote!(::ordinance::__private);
    if policy.naming == Naming::POSTGRES
        && policy.ids == "v7"
        && policy.bounded_text == "check"
        && policy.enums == "check"
    {
        return quote!(&#p::Conventions::DEFAULT);
    }
    let naming = naming_tokens(&policy.naming);
    let ids = match policy.ids {
        "v4" => quote!(V4),
        _ => quote!(V7),
    };
    let text = match policy.bounded_text {
        "varchar" => quote!(Varchar),
        _ => quote!(Check),
    };
    let enums = match policy.enums {
        "native" => quote!(.with_enums(#p::EnumStorage::Native)),
        _ => quote!(),
    };
    quote! {
        &#p::Conventions::new(#naming, #p::IdGeneration::#ids, #p::BoundedText::#text)#enums
    }
}

/// The policy's naming as a constant: a preset by name, else its templates.
fn naming_tokens(naming: &Naming) -> TokenStream {
    let p = quote!(::ordinance::__private);
    for (name, preset) in [
        ("POSTGRES", Naming::POSTGRES),
        ("PREFIXED", Naming::PREFIXED),
        ("SQLALCHEMY", Naming::SQLALCHEMY),
    ] {
        if *naming == preset {
            let name = format_ident!("{name}");
            return quote!(#p::Naming::#name);
        }
    }
    let [pk, index, unique, check, fk] = NameKind::ALL.map(|k| naming.template(k).to_owned());
    quote! {
        #p::Naming {
            primary_key: #p::Cow::Borrowed(#pk),
            index: #p::Cow::Borrowed(#index),
            unique: #p::Cow::Borrowed(#unique),
            check: #p::Cow::Borrowed(#check),
            foreign_key: #p::Cow::Borrowed(#fk),
        }
    }
}
