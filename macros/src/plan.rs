//! The database objects an entity implies, with their generated names:
//! primary key, foreign keys, checks, indexes and keyset orders.
//!
//! Names are decided here, once; the checks verify them (length, clashes) and
//! the expansion writes them into the static schema, so the runtime's DDL
//! renderer never invents a name of its own.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt as _;

use crate::ast::Container;
use crate::attr::{OnDelete, Value};
use crate::ctxt::Ctxt;
use crate::naming::{self, Naming};
use crate::pg_type::Kind;
use crate::symbol::{INDEX, KEYSET, UNIQUE};

/// What a check constraint tests.
pub(crate) enum CheckKind {
    MinLength(u32),
    MaxLength(u32),
    Min(i64),
    Max(i64),
    /// The column's type lists its allowed values (an enum deriving `DbEnum`);
    /// the constraint is rendered only when the list is not empty.
    OneOf,
    /// An array of `Vec<T>` (not `Vec<Option<T>>`) holds no NULL element.
    NoNullElements,
}

pub(crate) struct CheckPlan {
    pub(crate) name: String,
    /// Index of the field in the struct.
    pub(crate) field: usize,
    pub(crate) kind: CheckKind,
    pub(crate) tokens: TokenStream,
}

pub(crate) struct ForeignKeyPlan {
    pub(crate) name: String,
    pub(crate) field: usize,
    pub(crate) references: syn::Path,
    /// The referenced table's name as derived from its struct's name, when
    /// the foreign key's name uses it (checked against the entity's table
    /// at compile time).
    pub(crate) referenced_table: Option<String>,
    pub(crate) on_delete: OnDelete,
    pub(crate) tokens: TokenStream,
}

pub(crate) struct IndexPlan {
    pub(crate) name: String,
    /// What the index keys on, then its predicate's values, snake_case
    /// (`lower_email`, `slot`, `is_primary`): its generated name and its
    /// unique-key variant are made of these.
    pub(crate) words: Vec<String>,
    /// Whether `name` was given by the user rather than generated.
    pub(crate) named: bool,
    /// Declared in `#[entity(index(...))]` rather than on a column.
    pub(crate) in_list: bool,
    /// (field index, descending)
    pub(crate) columns: Vec<(usize, bool)>,
    /// What each of `columns` is keyed on: the column, `lower(column)`, or
    /// a JSONB field.
    pub(crate) functions: Vec<KeyFn>,
    /// `USING gin`.
    pub(crate) gin: bool,
    /// `INCLUDE (...)`: field indexes.
    pub(crate) include: Vec<usize>,
    /// `AND column = value` conditions after the live-rows one: field
    /// index and value (`true` for a bare boolean column).
    pub(crate) predicate: Vec<(usize, Value, TokenStream)>,
    pub(crate) unique: bool,
    /// `WHERE deleted_at IS NULL`.
    pub(crate) live_only: bool,
    /// A tenant table's `(tenant_id, id)`: what foreign keys from other
    /// tenant tables reference, so a row can only point into its own
    /// tenant. Not an upsert target.
    pub(crate) tenant_key: bool,
    pub(crate) tokens: TokenStream,
}

impl IndexPlan {
    /// A plain B-tree over bare columns of every live row: what a keyset
    /// order can scan.
    pub(crate) fn is_plain(&self) -> bool {
        !self.gin && self.predicate.is_empty() && self.functions.iter().all(|f| *f == KeyFn::Plain)
    }
}

/// What one index column keys on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum KeyFn {
    /// The column itself.
    Plain,
    /// `lower(column)`.
    Lower,
    /// A field of a JSONB column: its keys, and the `SqlType` variant it
    /// is read as (`Text` unless cast).
    Json {
        path: Vec<String>,
        as_type: &'static str,
    },
}

pub(crate) struct KeysetPlan {
    pub(crate) columns: Vec<(usize, bool)>,
}

pub(crate) struct Plan {
    pub(crate) primary_key: String,
    pub(crate) checks: Vec<CheckPlan>,
    pub(crate) foreign_keys: Vec<ForeignKeyPlan>,
    pub(crate) indexes: Vec<IndexPlan>,
    pub(crate) keysets: Vec<KeysetPlan>,
}

impl Plan {
    pub(crate) fn new(cx: &Ctxt, cont: &Container<'_>, names: &Naming) -> Self {
        let table = cont.table.as_str();
        let live_only = cont.soft_deletes();
        let mut checks = Vec::new();
        let mut foreign_keys = Vec::new();
        let mut indexes = Vec::new();

        for (i, f) in cont.fields.iter().enumerate() {
            let col = f.column.as_str();
            let mut check = |what: &str, kind: CheckKind, tokens: TokenStream| {
                checks.push(CheckPlan {
                    name: names.check(table, col, what),
                    field: i,
                    kind,
                    tokens,
                });
            };
            if let Some(v) = &f.attrs.min_len {
                check(
                    "min_length",
                    CheckKind::MinLength(v.value),
                    v.tokens.clone(),
                );
            }
            if let Some(v) = &f.attrs.max_len {
                check(
                    "max_length",
                    CheckKind::MaxLength(v.value),
                    v.tokens.clone(),
                );
            }
            if let Some(v) = &f.attrs.min {
                check("min", CheckKind::Min(v.value), v.tokens.clone());
            }
            if let Some(v) = &f.attrs.max {
                check("max", CheckKind::Max(v.value), v.tokens.clone());
            }
            if f.col.kind == Kind::Other && f.col.rejection.is_none() {
                check("valid", CheckKind::OneOf, f.ty.to_token_stream());
            }
            if f.col.element.is_some() && !f.col.element_nullable && f.col.rejection.is_none() {
                check(
                    "no_nulls",
                    CheckKind::NoNullElements,
                    f.ty.to_token_stream(),
                );
            }
            if col == "version" && f.col.is(Kind::Integer) {
                check("min", CheckKind::Min(1), f.ident.to_token_stream());
            }

            if let Some(r) = &f.attrs.references {
                // The referenced table as its struct name derives it; a
                // name that uses it is checked against the entity's own
                // table at compile time.
                let referenced_table = r
                    .value
                    .segments
                    .last()
                    .map(|s| naming::table_name_for(&s.ident.unraw().to_string()))
                    .unwrap_or_default();
                foreign_keys.push(ForeignKeyPlan {
                    name: names.foreign_key(table, col, &referenced_table),
                    referenced_table: names
                        .foreign_key
                        .contains("{referenced_table}")
                        .then_some(referenced_table),
                    field: i,
                    references: r.value.clone(),
                    on_delete: f
                        .attrs
                        .on_delete
                        .as_ref()
                        .map_or(OnDelete::Restrict, |o| o.value),
                    tokens: r.tokens.clone(),
                });
            }

            let single = |unique: bool, tokens: &TokenStream| {
                let (name, named) = match &f.attrs.index_name {
                    Some(n) => (n.value.clone(), true),
                    None => (names.index(table, &[col], unique), false),
                };
                IndexPlan {
                    name,
                    named,
                    words: vec![col.to_owned()],
                    in_list: false,
                    columns: vec![(i, false)],
                    functions: vec![KeyFn::Plain],
                    gin: false,
                    include: Vec::new(),
                    predicate: Vec::new(),
                    unique,
                    // Foreign-key indexes cover every row: the check PostgreSQL
                    // runs when a referenced row is deleted must find soft-deleted
                    // referencing rows too, and a partial index cannot serve it.
                    live_only: live_only && (unique || f.attrs.references.is_none()),
                    tenant_key: false,
                    tokens: tokens.clone(),
                }
            };
            // A tenant's rows are found by `tenant_id` (row-level security
            // compares it on every statement); keyset orders lead with it,
            // so without one it gets an index of its own.
            let tenant_key = cont.tenant()
                && col == "tenant_id"
                && !cont.attrs.keys.iter().any(|k| k.kind == KEYSET);
            if let Some(u) = &f.attrs.unique {
                indexes.push(single(true, &u.tokens));
            } else if let Some(x) = &f.attrs.index {
                indexes.push(single(false, &x.tokens));
            } else if let Some(r) = &f.attrs.references {
                indexes.push(single(false, &r.tokens));
            } else if tenant_key {
                indexes.push(single(false, &f.ident.to_token_stream()));
            }
        }

        // A tenant table's `tenant_id`: it leads keyset orders and unique
        // keys.
        let tenant_field = cont
            .tenant()
            .then(|| {
                cont.field_named(&syn::Ident::new(
                    "tenant_id",
                    proc_macro2::Span::call_site(),
                ))
            })
            .flatten()
            .map(|(i, _)| i);
        let mut keysets = Vec::new();
        for spec in &cont.attrs.keys {
            let mut columns = Vec::new();
            for c in &spec.columns {
                match cont.field_named(&c.ident) {
                    Some((i, _)) => {
                        if columns.iter().any(|(j, _)| *j == i) {
                            cx.error_with_help(
                                &c.ident,
                                format_args!("column `{}` is listed twice", c.ident),
                                "list each column once",
                            );
                        }
                        columns.push((i, c.descending));
                    }
                    None => unknown_column(cx, cont, &c.ident),
                }
            }
            // `include(...)` and `where(...)` name columns too.
            let mut resolve = |ident: &syn::Ident| match cont.field_named(ident) {
                Some((i, _)) => Some(i),
                None => {
                    unknown_column(cx, cont, ident);
                    None
                }
            };
            let include: Vec<usize> = spec.include.iter().filter_map(&mut resolve).collect();
            let predicate: Vec<(usize, Value, TokenStream)> = spec
                .predicate
                .iter()
                .filter_map(|p| {
                    let i = resolve(&p.column)?;
                    let value = p.value.clone().unwrap_or(Value::Bool(true));
                    Some((i, value, p.tokens.clone()))
                })
                .collect();
            if columns.len() != spec.columns.len()
                || columns.is_empty()
                || include.len() != spec.include.len()
                || predicate.len() != spec.predicate.len()
            {
                continue;
            }

            let gin = spec.using.as_ref().is_some_and(|u| u.value == "gin");
            if let Some(t) = tenant_field.filter(|_| spec.kind == KEYSET) {
                // A tenant's page is one index range: its `tenant_id` first.
                if !columns.iter().any(|(j, _)| *j == t) {
                    let first_desc = columns.first().is_some_and(|(_, d)| *d);
                    columns.insert(0, (t, first_desc));
                }
            }
            if spec.kind == KEYSET {
                // `id` is the unique tiebreaker that makes the order total.
                if let Some((id, _)) =
                    cont.field_named(&syn::Ident::new("id", proc_macro2::Span::call_site()))
                {
                    if !columns.iter().any(|(j, _)| *j == id) {
                        let last_desc = columns.last().is_some_and(|(_, d)| *d);
                        columns.push((id, last_desc));
                    }
                }
                keysets.push(KeysetPlan {
                    columns: columns.clone(),
                });
            }
            let unique = spec.kind == UNIQUE;
            debug_assert!(spec.kind == INDEX || unique || spec.kind == KEYSET);
            // Keyset orders may have gained `tenant_id` and `id`; they are
            // plain columns, never lowered.
            let mut functions: Vec<KeyFn> = spec
                .columns
                .iter()
                .map(|c| match (&c.lower, &c.json) {
                    (Some(_), _) => KeyFn::Lower,
                    (None, Some(j)) => KeyFn::Json {
                        path: j.path.clone(),
                        as_type: j
                            .as_type
                            .as_ref()
                            .and_then(|t| {
                                crate::attr::JSON_FIELD_TYPES
                                    .iter()
                                    .find(|(rust, _)| t == rust)
                            })
                            .map_or("Text", |(_, sql)| sql),
                    },
                    (None, None) => KeyFn::Plain,
                })
                .collect();
            functions.resize(columns.len(), KeyFn::Plain);
            // The generated name lists what is keyed (`lower_email`), then
            // the predicate's values (`idx_tickets_created_at_open`).
            let mut words: Vec<String> = columns
                .iter()
                .zip(&functions)
                .map(|((i, _), function)| {
                    let c = &cont.fields[*i].column;
                    match function {
                        KeyFn::Plain => c.clone(),
                        KeyFn::Lower => format!("lower_{c}"),
                        KeyFn::Json { path, .. } => {
                            let keys: Vec<String> =
                                path.iter().map(|k| naming::snake_case(k)).collect();
                            format!("{c}_{}", keys.join("_"))
                        }
                    }
                })
                .collect();
            words.extend(predicate.iter().map(|(i, v, _)| match v {
                Value::Str(s) => naming::snake_case(s),
                Value::Bool(false) => format!("not_{}", cont.fields[*i].column),
                _ => cont.fields[*i].column.clone(),
            }));
            let (name, named) = match &spec.name {
                Some(n) => (n.value.clone(), true),
                None => {
                    let words: Vec<&str> = words.iter().map(String::as_str).collect();
                    (names.index(table, &words, unique), false)
                }
            };
            // An index serves its own order and, scanned backward, the exact
            // reverse: a keyset either way needs no second index.
            let reversed: Vec<(usize, bool)> = columns.iter().map(|(i, d)| (*i, !d)).collect();
            let same_index = |x: &IndexPlan| {
                (x.columns == columns || x.columns == reversed)
                    && x.unique == unique
                    && x.is_plain()
            };
            if spec.kind == KEYSET && indexes.iter().any(same_index) {
                continue;
            }
            indexes.push(IndexPlan {
                name,
                named,
                words,
                in_list: true,
                columns,
                functions,
                gin,
                include,
                predicate,
                unique,
                live_only,
                tenant_key: false,
                tokens: spec.tokens.clone(),
            });
        }

        // A tenant's unique keys are unique within the tenant: two tenants
        // may hold the same email, and one tenant's insert never learns of
        // another's row from a unique violation. `tenant_id` leads each
        // unique B-tree index; the name and the key's variant stay those of
        // the declared columns.
        if let Some(t) = tenant_field {
            for x in indexes.iter_mut().filter(|x| x.unique && !x.gin) {
                if !x.columns.iter().any(|(j, _)| *j == t) {
                    x.columns.insert(0, (t, false));
                    x.functions.insert(0, KeyFn::Plain);
                }
            }
            // What a foreign key from another tenant table references:
            // `(tenant_id, id)`, unique over every row (a foreign key needs
            // a whole-table key), so a reference holds only within a
            // tenant.
            if let Some((id, _)) = cont
                .fields
                .iter()
                .enumerate()
                .find(|(_, f)| f.column == "id")
            {
                indexes.push(IndexPlan {
                    name: names.index(table, &["tenant_id", "id"], true),
                    named: false,
                    words: vec!["tenant_id".to_owned(), "id".to_owned()],
                    in_list: false,
                    columns: vec![(t, false), (id, false)],
                    functions: vec![KeyFn::Plain, KeyFn::Plain],
                    gin: false,
                    include: Vec::new(),
                    predicate: Vec::new(),
                    unique: true,
                    live_only: false,
                    tenant_key: true,
                    tokens: cont.fields[t].ident.to_token_stream(),
                });
            }
        }

        // An outbox's relay finds each key's oldest event, and scans the
        // events oldest first.
        if cont.outbox() {
            let field = |name: &str| cont.fields.iter().position(|f| f.column == name);
            for names_of in [&["key", "created_at", "id"][..], &["created_at", "id"][..]] {
                let Some(columns) = names_of
                    .iter()
                    .map(|n| field(n).map(|i| (i, false)))
                    .collect::<Option<Vec<_>>>()
                else {
                    continue;
                };
                indexes.push(IndexPlan {
                    name: names.index(table, names_of, false),
                    named: false,
                    words: names_of.iter().map(|w| (*w).to_owned()).collect(),
                    in_list: false,
                    functions: vec![KeyFn::Plain; columns.len()],
                    columns,
                    gin: false,
                    include: Vec::new(),
                    predicate: Vec::new(),
                    unique: false,
                    live_only: false,
                    tenant_key: false,
                    tokens: cont.ident.to_token_stream(),
                });
            }
        }

        Plan {
            primary_key: names.primary_key(table),
            checks,
            foreign_keys,
            indexes,
            keysets,
        }
    }
}

/// Reports a name in `index(...)`, `include(...)` or `where(...)` that is
/// not a column, listing the columns.
fn unknown_column(cx: &Ctxt, cont: &Container<'_>, ident: &syn::Ident) {
    cx.error_with_help(
        ident,
        format_args!("`{ident}` is not a column of this entity"),
        format_args!(
            "name one of its fields: {}",
            cont.fields
                .iter()
                .map(|f| format!("`{}`", f.column))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
}
