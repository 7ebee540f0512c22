//! The derive's model of an entity: the struct, its fields, their parsed
//! attributes and classified types, and the resolved table and column names.
//! Each item keeps a reference to the syntax it came from, for spans.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::naming;
use crate::pg_type::{self, ColumnTy};

/// The struct an `Entity` is derived for.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Container,
    pub(crate) fields: Vec<Field<'a>>,
    /// The table name: from `#[entity(table = "...")]` or derived from the struct name.
    pub(crate) table: String,
}

/// One named field of the struct: one column.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a syn::Visibility,
    pub(crate) ty: &'a Type,
    pub(crate) col: ColumnTy<'a>,
    pub(crate) attrs: attr::Field,
    /// The column name: from `#[column(name = "...")]` or the field name.
    pub(crate) column: String,
}

impl<'a> Container<'a> {
    /// Builds the model, or records why the input cannot be an entity.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        if !input.generics.params.is_empty() {
            cx.error_with_help(
                &input.generics,
                "an entity cannot be generic: it describes one table",
                "remove the generic parameters",
            );
            return None;
        }
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named,
                _ => {
                    cx.error_with_help(
                        &input.ident,
                        "`Entity` needs a struct with named fields: each field is a column",
                        "write `struct Name { pub id: Uuid, ... }`",
                    );
                    return None;
                }
            },
            Data::Enum(_) => {
                cx.error_with_help(
                    &input.ident,
                    "`Entity` can only be derived for a struct",
                    "for a status-like column stored as text, derive `DbEnum` instead",
                );
                return None;
            }
            Data::Union(_) => {
                cx.error_with_help(
                    &input.ident,
                    "`Entity` can only be derived for a struct",
                    "write `struct Name { ... }`",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                let attrs = attr::Field::from_ast(cx, &f.attrs);
                let column = match &attrs.name {
                    Some(name) => name.value.clone(),
                    None => ident.unraw().to_string(),
                };
                Some(Field {
                    ident,
                    vis: &f.vis,
                    ty: &f.ty,
                    col: pg_type::classify(&f.ty),
                    attrs,
                    column,
                })
            })
            .collect();
        let table = match &attrs.table {
            Some(t) => t.value.clone(),
            None => naming::table_name_for(&input.ident.unraw().to_string()),
        };
        Some(Container {
            ident: &input.ident,
            attrs,
            fields,
            table,
        })
    }

    /// The tokens an error about the table name points at: the `table = "..."`
    /// attribute when given, else the struct name.
    pub(crate) fn table_tokens(&self) -> TokenStream {
        match &self.attrs.table {
            Some(t) => t.tokens.clone(),
            None => self.ident.to_token_stream(),
        }
    }

    pub(crate) fn field(&self, column: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.column == column)
    }

    /// Finds the field an index or keyset names, by column name or field name.
    pub(crate) fn field_named(&self, name: &Ident) -> Option<(usize, &Field<'a>)> {
        let name = name.unraw().to_string();
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.column == name)
            .or_else(|| {
                self.fields
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.ident.unraw() == name)
            })
    }

    /// The two foreign-key fields of a join entity: a `unique(a, b)` over
    /// exactly two columns that both declare `references`.
    pub(crate) fn join_pair(&self) -> Option<(&attr::KeySpec, usize, usize)> {
        self.attrs
            .keys
            .iter()
            .filter(|k| k.kind == crate::symbol::UNIQUE && k.columns.len() == 2)
            .find_map(|k| {
                let (a, fa) = self.field_named(&k.columns[0].ident)?;
                let (b, fb) = self.field_named(&k.columns[1].ident)?;
                (fa.attrs.references.is_some() && fb.attrs.references.is_some())
                    .then_some((k, a, b))
            })
    }

    /// Whether rows belong to tenants (`#[entity(tenant)]`).
    pub(crate) fn tenant(&self) -> bool {
        self.attrs.tenant.is_some()
    }

    /// Whether writes to its `aggregate` children bump its version
    /// (`#[entity(aggregate_root)]`).
    pub(crate) fn aggregate_root(&self) -> bool {
        self.attrs.aggregate_root.is_some()
    }

    /// How it is partitioned by time, if it is (`#[entity(partitioned(...))]`).
    pub(crate) fn partitioned(&self) -> Option<&crate::attr::Partitioning> {
        self.attrs.partitioned.as_ref().map(|p| &p.value)
    }

    /// Whether it is a transactional outbox's table (`#[entity(outbox)]`).
    pub(crate) fn outbox(&self) -> bool {
        self.attrs.outbox.is_some()
    }

    /// Whether every version of every row is kept (`#[entity(history)]`).
    pub(crate) fn history(&self) -> bool {
        self.attrs.history.is_some()
    }

    /// Whether the kit and the database fill the column on every write, so
    /// the application never sets it: `id`, the timestamps, `deleted_at`,
    /// `version`, the actor columns, and a tenant table's `tenant_id`.
    pub(crate) fn is_maintained(&self, column: &str) -> bool {
        crate::naming::is_maintained(column, self.tenant())
    }

    /// Whether rows are soft-deleted (a `deleted_at` column exists).
    pub(crate) fn soft_deletes(&self) -> bool {
        self.field("deleted_at").is_some()
    }

    pub(crate) fn waiver(&self, rule: crate::symbol::Symbol) -> Option<&attr::Waiver> {
        self.attrs.waivers.iter().find(|w| w.rule == rule)
    }
}

impl Field<'_> {
    pub(crate) fn waiver(&self, rule: crate::symbol::Symbol) -> Option<&attr::Waiver> {
        self.attrs.waivers.iter().find(|w| w.rule == rule)
    }
}
