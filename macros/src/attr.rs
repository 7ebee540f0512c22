//! Parsing of `#[entity(...)]` and `#[column(...)]` into typed slots.
//!
//! Every slot keeps the tokens it came from so later checks can point at the
//! exact attribute. A key given twice is an error (never "last one wins"); an
//! unknown key is an error that lists the valid ones. Parsing never stops at
//! the first bad attribute: each error goes to the [`Ctxt`].

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::symbol::*;

/// A parsed value together with the tokens of the attribute that set it.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) tokens: TokenStream,
}

/// One attribute slot: empty, or set once.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: Symbol,
    slot: Option<Spanned<T>>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: Symbol) -> Self {
        Attr {
            cx,
            name,
            slot: None,
        }
    }

    fn set<A: ToTokens>(&mut self, tokens: A, value: T) {
        let tokens = tokens.into_token_stream();
        if self.slot.is_some() {
            self.cx.error_with_help(
                tokens,
                format_args!("duplicate attribute `{}`", self.name),
                "give each key once; remove this one",
            );
        } else {
            self.slot = Some(Spanned { value, tokens });
        }
    }

    fn get(self) -> Option<Spanned<T>> {
        self.slot
    }
}

/// What `ON DELETE` does to referencing rows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    Restrict,
    Cascade,
    SetNull,
}

/// A constant written in `default = ...` or `backfill = ...`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Value {
    /// `0`, `-5`
    Int(i128),
    /// `12.50`, as written (with its sign)
    Decimal(String),
    /// `"active"`
    Str(String),
    /// `true`, `false`
    Bool(bool),
    /// `now`
    Now,
    /// `[]`
    EmptyArray,
    /// `{}`
    EmptyObject,
}

/// A waived rule: `exempt(rule = "reason")`.
pub(crate) struct Waiver {
    pub(crate) rule: Symbol,
    pub(crate) reason: String,
    pub(crate) tokens: TokenStream,
}

/// One column of an index or keyset order: `created_at`, `created_at desc`,
/// `lower(email)`, or a JSONB field `json(settings, "max_tokens") as i32`.
pub(crate) struct KeyColumn {
    pub(crate) ident: Ident,
    pub(crate) descending: bool,
    /// `lower(...)` around the column.
    pub(crate) lower: Option<Ident>,
    /// `json(column, "key", ...) [as type]`: a field of a JSONB column.
    pub(crate) json: Option<JsonKey>,
}

/// The field of `json(column, "key", ...) [as type]`.
pub(crate) struct JsonKey {
    /// The keys from the column to the field.
    pub(crate) path: Vec<String>,
    /// The Rust type after `as` (`i32`), or `None` for text.
    pub(crate) as_type: Option<Ident>,
    /// The whole `json(...) as ...`, for errors.
    pub(crate) tokens: TokenStream,
}

/// The Rust types a JSONB field can be read as in an index, and the
/// PostgreSQL type each casts to.
pub(crate) const JSON_FIELD_TYPES: &[(&str, &str)] = &[
    ("String", "Text"),
    ("i16", "SmallInt"),
    ("i32", "Integer"),
    ("i64", "BigInt"),
    ("Decimal", "Numeric"),
    ("bool", "Boolean"),
];

/// One condition of a partial index: `status = "active"`, `is_public` or
/// `is_public = false`.
pub(crate) struct PredicateItem {
    pub(crate) column: Ident,
    /// `None` for a bare boolean column (`= true`).
    pub(crate) value: Option<Value>,
    pub(crate) tokens: TokenStream,
}

/// `index(...)`, `unique(...)` or `keyset(...)` on the entity.
pub(crate) struct KeySpec {
    pub(crate) kind: Symbol,
    pub(crate) name: Option<Spanned<String>>,
    /// A keyset order's name: `keyset(newest = (created_at desc))`.
    pub(crate) order_name: Option<Ident>,
    pub(crate) columns: Vec<KeyColumn>,
    /// `using = "gin"`.
    pub(crate) using: Option<Spanned<String>>,
    /// `include(a, b)`: columns stored in the index but not keyed.
    pub(crate) include: Vec<Ident>,
    /// `where(...)`: the index covers only rows matching all of these.
    pub(crate) predicate: Vec<PredicateItem>,
    pub(crate) tokens: TokenStream,
}

/// Attributes of the struct: `#[entity(...)]` and doc comments.
pub(crate) struct Container {
    pub(crate) table: Option<Spanned<String>>,
    /// `schema = "auth"`: the PostgreSQL schema the table lives in.
    pub(crate) schema: Option<Spanned<String>>,
    pub(crate) keys: Vec<KeySpec>,
    pub(crate) waivers: Vec<Waiver>,
    /// `tenant`: rows belong to tenants, isolated by row-level security.
    pub(crate) tenant: Option<Spanned<()>>,
    /// `history`: every version of every row kept in `{table}_history`.
    pub(crate) history: Option<Spanned<()>>,
    /// `aggregate_root`: writes to its `aggregate` children bump its version.
    pub(crate) aggregate_root: Option<Spanned<()>>,
    /// `outbox`: the table of a transactional outbox.
    pub(crate) outbox: Option<Spanned<()>>,
    /// `partitioned(interval = "1 month", keep = "13 months")`.
    pub(crate) partitioned: Option<Spanned<Partitioning>>,
    /// `derive_new(...)`: more derives on the generated `New{Entity}`.
    pub(crate) derive_new: Vec<syn::Path>,
    /// `derive_patch(...)`: more derives on the generated `{Entity}Patch`.
    pub(crate) derive_patch: Vec<syn::Path>,
    pub(crate) doc: Option<String>,
}

/// Attributes of a field: `#[column(...)]` and doc comments.
pub(crate) struct Field {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) min_len: Option<Spanned<u32>>,
    pub(crate) max_len: Option<Spanned<u32>>,
    pub(crate) min: Option<Spanned<i64>>,
    pub(crate) max: Option<Spanned<i64>>,
    pub(crate) unique: Option<Spanned<()>>,
    pub(crate) index: Option<Spanned<()>>,
    pub(crate) index_name: Option<Spanned<String>>,
    pub(crate) references: Option<Spanned<syn::Path>>,
    /// `references` was written, even if its value did not parse; the
    /// foreign-key rules then stay quiet instead of repeating the error.
    pub(crate) references_written: bool,
    pub(crate) on_delete: Option<Spanned<OnDelete>>,
    /// `aggregate`: a write to this row bumps the referenced root's version.
    pub(crate) aggregate: Option<Spanned<()>>,
    pub(crate) precision: Option<Spanned<u16>>,
    pub(crate) scale: Option<Spanned<u16>>,
    /// The column's previous name, for a migration that renames it.
    pub(crate) renamed_from: Option<Spanned<String>>,
    /// `default = ...`: what the database writes when an insert gives none.
    pub(crate) default: Option<Spanned<Value>>,
    /// `backfill = ...`: what existing rows take when the column becomes
    /// NOT NULL.
    pub(crate) backfill: Option<Spanned<Value>>,
    /// `sensitive`: personal data, kept out of `Debug` output.
    pub(crate) sensitive: Option<Spanned<()>>,
    pub(crate) waivers: Vec<Waiver>,
    pub(crate) doc: Option<String>,
}

const ENTITY_WAIVERS: &[Symbol] = &[SOFT_DELETE, VERSION, PLURAL, JOIN_NAME, ACTOR_COLUMNS];
const FIELD_WAIVERS: &[Symbol] = &[FLOAT, FOREIGN_KEY, BOOLEAN_NAME, TENANT_REFERENCE];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut table = Attr::none(cx, TABLE);
        let mut schema = Attr::none(cx, SCHEMA);
        let mut keys = Vec::new();
        let mut waivers = Vec::new();
        let mut tenant = Attr::none(cx, TENANT);
        let mut history = Attr::none(cx, HISTORY);
        let mut aggregate_root = Attr::none(cx, AGGREGATE_ROOT);
        let mut outbox = Attr::none(cx, OUTBOX);
        let mut partitioned = Attr::none(cx, PARTITIONED);
        let mut derive_new = Vec::new();
        let mut derive_patch = Vec::new();
        for attr in attrs {
            if attr.path() == COLUMN {
                cx.error_with_help(
                    attr,
                    "`#[column(...)]` belongs on a field, not on the struct",
                    "move it onto the field it describes; table-level settings go in `#[entity(...)]`",
                );
                continue;
            }
            if attr.path() != ENTITY {
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                if meta.path == TABLE {
                    let s = expect_str(&meta, TABLE, "table = \"workflow_steps\"")?;
                    let path = &meta.path;
                    table.set(quote::quote!(#path = #s), s.value());
                } else if meta.path == SCHEMA {
                    let s = expect_str(&meta, SCHEMA, "schema = \"auth\"")?;
                    let path = &meta.path;
                    schema.set(quote::quote!(#path = #s), s.value());
                } else if meta.path == INDEX || meta.path == UNIQUE || meta.path == KEYSET {
                    let kind = [INDEX, UNIQUE, KEYSET]
                        .into_iter()
                        .find(|k| meta.path == *k)
                        .unwrap_or(INDEX);
                    keys.push(parse_key_spec(cx, &meta, kind)?);
                } else if meta.path == EXEMPT {
                    parse_waivers(cx, &meta, ENTITY_WAIVERS, &mut waivers)?;
                } else if meta.path == TENANT {
                    expect_flag(&meta, TENANT)?;
                    tenant.set(&meta.path, ());
                } else if meta.path == HISTORY {
                    expect_flag(&meta, HISTORY)?;
                    history.set(&meta.path, ());
                } else if meta.path == AGGREGATE_ROOT {
                    expect_flag(&meta, AGGREGATE_ROOT)?;
                    aggregate_root.set(&meta.path, ());
                } else if meta.path == OUTBOX {
                    expect_flag(&meta, OUTBOX)?;
                    outbox.set(&meta.path, ());
                } else if meta.path == PARTITIONED {
                    let (value, tokens) = parse_partitioning(&meta)?;
                    partitioned.set(tokens, value);
                } else if meta.path == DERIVE_NEW {
                    derive_new.extend(expect_derives(&meta, DERIVE_NEW)?);
                } else if meta.path == DERIVE_PATCH {
                    derive_patch.extend(expect_derives(&meta, DERIVE_PATCH)?);
                } else {
                    return Err(unknown_key(&meta, "entity", ENTITY_KEYS));
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }
        Container {
            table: table.get(),
            schema: schema.get(),
            keys,
            waivers,
            tenant: tenant.get(),
            history: history.get(),
            aggregate_root: aggregate_root.get(),
            outbox: outbox.get(),
            partitioned: partitioned.get(),
            derive_new,
            derive_patch,
            doc: doc_comment(attrs),
        }
    }
}

/// `derive_new(PartialEq, serde::Serialize)`: the traits to derive.
fn expect_derives(meta: &ParseNestedMeta<'_>, key: Symbol) -> syn::Result<Vec<syn::Path>> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`{key}` lists the traits to derive\nhelp: write `{key}(PartialEq, Eq)`"
        )));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let list = Punctuated::<syn::Path, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut name = Attr::none(cx, NAME);
        let mut min_len = Attr::none(cx, MIN_LEN);
        let mut max_len = Attr::none(cx, MAX_LEN);
        let mut min = Attr::none(cx, MIN);
        let mut max = Attr::none(cx, MAX);
        let mut unique = Attr::none(cx, UNIQUE);
        let mut index = Attr::none(cx, INDEX);
        let mut index_name = Attr::none(cx, INDEX_NAME);
        let mut references = Attr::none(cx, REFERENCES);
        let mut on_delete = Attr::none(cx, ON_DELETE);
        let mut aggregate = Attr::none(cx, AGGREGATE);
        let mut precision = Attr::none(cx, PRECISION);
        let mut scale = Attr::none(cx, SCALE);
        let mut renamed_from = Attr::none(cx, RENAMED_FROM);
        let mut default = Attr::none(cx, DEFAULT);
        let mut backfill = Attr::none(cx, BACKFILL);
        let mut sensitive = Attr::none(cx, SENSITIVE);
        let mut waivers = Vec::new();
        let mut references_written = false;
        for attr in attrs {
            if attr.path() == ENTITY {
                cx.error_with_help(
                    attr,
                    "`#[entity(...)]` belongs on the struct, not on a field",
                    "move it above the struct; field settings go in `#[column(...)]`",
                );
                continue;
            }
            if attr.path() != COLUMN {
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                let path = meta.path.clone();
                // Errors about a `key = value` setting underline all of it.
                let whole = |value: &dyn ToTokens| quote::quote!(#path = #value);
                if path == NAME {
                    let s = expect_str(&meta, NAME, "name = \"first_name\"")?;
                    name.set(whole(&s), s.value());
                } else if path == MIN_LEN {
                    let (v, e) = expect_int(&meta, MIN_LEN, "min_len = 1")?;
                    min_len.set(whole(&e), v);
                } else if path == MAX_LEN {
                    let (v, e) = expect_int(&meta, MAX_LEN, "max_len = 200")?;
                    max_len.set(whole(&e), v);
                } else if path == MIN {
                    let (v, e) = expect_int(&meta, MIN, "min = 0")?;
                    min.set(whole(&e), v);
                } else if path == MAX {
                    let (v, e) = expect_int(&meta, MAX, "max = 100")?;
                    max.set(whole(&e), v);
                } else if path == UNIQUE {
                    expect_flag(&meta, UNIQUE)?;
                    unique.set(&path, ());
                } else if path == INDEX {
                    expect_flag(&meta, INDEX)?;
                    index.set(&path, ());
                } else if path == INDEX_NAME {
                    let s = expect_str(&meta, INDEX_NAME, "index_name = \"idx_short_name\"")?;
                    index_name.set(whole(&s), s.value());
                } else if path == REFERENCES {
                    references_written = true;
                    let target = expect_path(&meta)?;
                    references.set(whole(&target), target);
                } else if path == ON_DELETE {
                    let (action, lit) = expect_on_delete(&meta)?;
                    on_delete.set(whole(&lit), action);
                } else if path == AGGREGATE {
                    expect_flag(&meta, AGGREGATE)?;
                    aggregate.set(&path, ());
                } else if path == PRECISION {
                    let (v, e) = expect_int(&meta, PRECISION, "precision = 12")?;
                    precision.set(whole(&e), v);
                } else if path == SCALE {
                    let (v, e) = expect_int(&meta, SCALE, "scale = 2")?;
                    scale.set(whole(&e), v);
                } else if path == RENAMED_FROM {
                    let s = expect_str(&meta, RENAMED_FROM, "renamed_from = \"old_name\"")?;
                    renamed_from.set(whole(&s), s.value());
                } else if path == DEFAULT {
                    let (v, e) = expect_value(&meta, DEFAULT, "default = 0")?;
                    default.set(whole(&e), v);
                } else if path == BACKFILL {
                    let (v, e) = expect_value(&meta, BACKFILL, "backfill = 0")?;
                    backfill.set(whole(&e), v);
                } else if path == SENSITIVE {
                    expect_flag(&meta, SENSITIVE)?;
                    sensitive.set(&path, ());
                } else if path == EXEMPT {
                    parse_waivers(cx, &meta, FIELD_WAIVERS, &mut waivers)?;
                } else {
                    return Err(unknown_key(&meta, "column", COLUMN_KEYS));
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }
        Field {
            name: name.get(),
            min_len: min_len.get(),
            max_len: max_len.get(),
            min: min.get(),
            max: max.get(),
            unique: unique.get(),
            index: index.get(),
            index_name: index_name.get(),
            references: references.get(),
            references_written,
            on_delete: on_delete.get(),
            aggregate: aggregate.get(),
            precision: precision.get(),
            scale: scale.get(),
            renamed_from: renamed_from.get(),
            default: default.get(),
            backfill: backfill.get(),
            sensitive: sensitive.get(),
            waivers,
            doc: doc_comment(attrs),
        }
    }
}

/// Joins `///` lines into one comment, trimming the single leading space
/// rustdoc adds; `None` when there is no doc comment.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if attr.path() != DOC {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
            {
                let line = s.value();
                lines.push(
                    line.strip_prefix(' ')
                        .unwrap_or(&line)
                        .trim_end()
                        .to_owned(),
                );
            }
        }
    }
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn unknown_key(meta: &ParseNestedMeta<'_>, attr: &str, valid: &[Symbol]) -> syn::Error {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    let valid: Vec<&str> = valid.iter().map(|k| k.0).collect();
    let help = one_of(&key, &valid, &format!("the {attr} attributes are"), "`");
    meta.error(format_args!(
        "unknown {attr} attribute `{key}`\nhelp: {help}"
    ))
}

/// The help for a misspelt word: "did you mean `near`? {what} `a`, `b`"
/// when one is close, else "expected one of `a`, `b`". `quote` wraps each
/// word (a backtick for keys, `"` for string values).
pub(crate) fn one_of(word: &str, valid: &[&str], what: &str, quote: &str) -> String {
    let list = valid
        .iter()
        .map(|k| format!("{quote}{k}{quote}"))
        .collect::<Vec<_>>()
        .join(", ");
    match crate::naming::closest(word, valid) {
        Some(near) => format!("did you mean {quote}{near}{quote}? {what} {list}"),
        None => format!("expected one of {list}"),
    }
}

fn expect_str(meta: &ParseNestedMeta<'_>, key: Symbol, example: &str) -> syn::Result<LitStr> {
    match value_expr(meta, key, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!("`{key}` takes a string\nhelp: write it as `{example}`"),
        )),
    }
}

fn expect_int<T>(meta: &ParseNestedMeta<'_>, key: Symbol, example: &str) -> syn::Result<(T, Expr)>
where
    T: std::str::FromStr + TryFrom<i64>,
    T::Err: std::fmt::Display,
{
    let expr = value_expr(meta, key, example)?;
    let (lit, negative) = match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => (i.clone(), false),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }) => (i.clone(), true),
            _ => return Err(not_an_integer(&expr, key, example)),
        },
        _ => return Err(not_an_integer(&expr, key, example)),
    };
    let out_of_range = || {
        syn::Error::new_spanned(
            &expr,
            format_args!(
                "`{key}` cannot be {}\nhelp: for example `{example}`",
                expr.to_token_stream().to_string().replace(' ', "")
            ),
        )
    };
    let magnitude: i64 = lit.base10_parse().map_err(|_| out_of_range())?;
    let value = if negative { -magnitude } else { magnitude };
    let value = T::try_from(value).map_err(|_| out_of_range())?;
    Ok((value, expr))
}

/// A literal constant: a number, a string, `true`/`false`, `now`, `[]` or `{}`.
fn expect_value(
    meta: &ParseNestedMeta<'_>,
    key: Symbol,
    example: &str,
) -> syn::Result<(Value, Expr)> {
    let expr = value_expr(meta, key, example)?;
    let bad = |expr: &Expr| {
        syn::Error::new_spanned(
            expr,
            format_args!(
                "`{key}` takes a constant: a number, a string, `true` or `false`, `now`, `[]` or `{{}}`\n\
                 help: for example `{example}`"
            ),
        )
    };
    let number = |lit: &Lit, negative: bool| -> Option<Value> {
        let sign = if negative { "-" } else { "" };
        match lit {
            Lit::Int(i) if i.suffix().is_empty() => {
                let v: i128 = i.base10_parse().ok()?;
                Some(Value::Int(if negative { -v } else { v }))
            }
            Lit::Float(f) if f.suffix().is_empty() => {
                let digits = f.base10_digits();
                (!digits.contains(['e', 'E'])).then(|| Value::Decimal(format!("{sign}{digits}")))
            }
            _ => None,
        }
    };
    let value = match &expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Some(Value::Str(s.value())),
            Lit::Bool(b) => Some(Value::Bool(b.value)),
            lit => number(lit, false),
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(ExprLit { lit, .. }) => number(lit, true),
            _ => None,
        },
        Expr::Path(p) if p.path.is_ident("now") => Some(Value::Now),
        other => match other
            .to_token_stream()
            .to_string()
            .replace(' ', "")
            .as_str()
        {
            "[]" => Some(Value::EmptyArray),
            "{}" => Some(Value::EmptyObject),
            _ => None,
        },
    };
    match value {
        Some(v) => Ok((v, expr)),
        None => Err(bad(&expr)),
    }
}

fn not_an_integer(expr: &Expr, key: Symbol, example: &str) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format_args!("`{key}` takes an integer literal\nhelp: write it as `{example}`"),
    )
}

fn value_expr(meta: &ParseNestedMeta<'_>, key: Symbol, example: &str) -> syn::Result<Expr> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format_args!(
            "`{key}` needs a value\nhelp: write it as `{example}`"
        )));
    }
    meta.value()?.parse()
}

fn expect_flag(meta: &ParseNestedMeta<'_>, key: Symbol) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`{key}` is a flag and takes no value\nhelp: write just `{key}`"
        )));
    }
    Ok(())
}

fn expect_path(meta: &ParseNestedMeta<'_>) -> syn::Result<syn::Path> {
    let example = "references = User";
    match value_expr(meta, REFERENCES, example)? {
        Expr::Path(p) if p.qself.is_none() => Ok(p.path),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Err(syn::Error::new_spanned(
            &s,
            format_args!(
                "`references` takes the referenced entity type, not a table name\n\
                 help: write the struct, e.g. `{example}`; its table name is taken from it"
            ),
        )),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!("`references` takes an entity type\nhelp: write `{example}`"),
        )),
    }
}

fn expect_on_delete(meta: &ParseNestedMeta<'_>) -> syn::Result<(OnDelete, LitStr)> {
    let s = expect_str(meta, ON_DELETE, "on_delete = \"cascade\"")?;
    match s.value().to_ascii_lowercase().as_str() {
        "restrict" => Ok((OnDelete::Restrict, s)),
        "cascade" => Ok((OnDelete::Cascade, s)),
        "set null" | "set_null" => Ok((OnDelete::SetNull, s)),
        other => Err(syn::Error::new_spanned(
            &s,
            format_args!(
                "unknown `on_delete` action \"{other}\"\nhelp: {} (\"restrict\" is the default)",
                one_of(
                    other,
                    &["restrict", "cascade", "set null"],
                    "the actions are",
                    "\""
                )
            ),
        )),
    }
}

fn parse_waivers(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    valid: &[Symbol],
    out: &mut Vec<Waiver>,
) -> syn::Result<()> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`exempt` lists the waived rules with a reason each\n\
             help: write `exempt({} = \"why this rule does not apply\")`",
            valid[0]
        )));
    }
    meta.parse_nested_meta(|inner| {
        let Some(rule) = valid.iter().copied().find(|s| inner.path == *s) else {
            let key = inner.path.to_token_stream().to_string().replace(' ', "");
            let names: Vec<&str> = valid.iter().map(|s| s.0).collect();
            let help = one_of(&key, &names, "the rules waivable here are", "`");
            return Err(inner.error(format_args!(
                "`{key}` is not a rule that can be waived here\nhelp: {help}"
            )));
        };
        let example = format!("{rule} = \"why this rule does not apply\"");
        if !inner.input.peek(Token![=]) {
            // Count it as waived so the rule itself is not reported as well.
            cx.error_with_help(
                &inner.path,
                format_args!("the waiver of `{rule}` has no reason"),
                format_args!("write `{example}`; the reason is written into the schema as a comment"),
            );
            out.push(Waiver {
                rule,
                reason: String::new(),
                tokens: inner.path.to_token_stream(),
            });
            return Ok(());
        }
        let reason = expect_str(&inner, rule, &example)?;
        if reason.value().trim().is_empty() {
            cx.error_with_help(
                &reason,
                format_args!("the waiver of `{rule}` has an empty reason"),
                "say why the rule does not apply here; the reason is written into the schema as a comment",
            );
        }
        if out.iter().any(|w| w.rule == rule) {
            cx.error_with_help(
                &inner.path,
                format_args!("`{rule}` is waived twice"),
                "waive each rule once",
            );
        }
        let mut tokens = inner.path.to_token_stream();
        reason.to_tokens(&mut tokens);
        out.push(Waiver {
            rule,
            reason: reason.value().trim().to_owned(),
            tokens,
        });
        Ok(())
    })
}

/// One item inside `index(...)`: a column with optional direction,
/// `lower(column)`, `name = "..."`, `using = "gin"`, `include(...)` or
/// `where(...)`.
enum KeyItem {
    Column(KeyColumn),
    /// `gin(column)`: the column, GIN-indexed (the same as
    /// `column, using = "gin"`, written so that two GIN indexes of one
    /// entity do not repeat an identical `using = "gin"`, which clippy's
    /// `duplicated_attributes` reports).
    Gin(Ident, KeyColumn),
    Setting(Ident, LitStr),
    Include(Vec<Ident>),
    Where(Vec<PredicateItem>),
}

impl Parse for KeyItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let ident: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if ident != NAME && ident != USING {
                let near = match crate::naming::closest(&ident.to_string(), &[NAME.0, USING.0]) {
                    Some(near) => format!("did you mean `{near}`? "),
                    None => String::new(),
                };
                return Err(syn::Error::new_spanned(
                    &ident,
                    format_args!(
                        "unknown setting `{ident}`\nhelp: {near}the settings here are `name = \"...\"` and `using = \"gin\"`"
                    ),
                ));
            }
            return Ok(KeyItem::Setting(ident, input.parse()?));
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            if ident == "include" {
                let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                return Ok(KeyItem::Include(list.into_iter().collect()));
            }
            if ident == WHERE {
                let list = Punctuated::<PredicateItem, Token![,]>::parse_terminated(&content)?;
                return Ok(KeyItem::Where(list.into_iter().collect()));
            }
            if ident == "json" {
                return parse_json_key(ident, &content, input);
            }
            if ident == "gin" {
                let column: Ident = content.call(syn::ext::IdentExt::parse_any)?;
                if !content.is_empty() {
                    return Err(content.error("`gin(...)` takes one column"));
                }
                return Ok(KeyItem::Gin(
                    ident,
                    KeyColumn {
                        ident: column,
                        descending: false,
                        lower: None,
                        json: None,
                    },
                ));
            }
            if ident != "lower" {
                return Err(syn::Error::new_spanned(
                    &ident,
                    format_args!(
                        "`{ident}(...)` is not something an index can hold\n\
                         help: index a column, `lower(column)`, `json(column, \"key\")`, `gin(column)`, or add `include(...)` or `where(...)`"
                    ),
                ));
            }
            let column: Ident = content.call(syn::ext::IdentExt::parse_any)?;
            if !content.is_empty() {
                return Err(content.error("`lower(...)` takes one column"));
            }
            let descending = parse_direction(input, &column)?;
            return Ok(KeyItem::Column(KeyColumn {
                ident: column,
                descending,
                lower: Some(ident),
                json: None,
            }));
        }
        let descending = parse_direction(input, &ident)?;
        Ok(KeyItem::Column(KeyColumn {
            ident,
            descending,
            lower: None,
            json: None,
        }))
    }
}

/// `json(column, "key", ...) [as type] [asc|desc]`, after `json`.
fn parse_json_key(
    json: Ident,
    content: ParseStream<'_>,
    input: ParseStream<'_>,
) -> syn::Result<KeyItem> {
    let example = "json(settings, \"max_tokens\") as i32";
    let column: Ident = content.call(syn::ext::IdentExt::parse_any)?;
    let mut path = Vec::new();
    let mut keys = TokenStream::new();
    while !content.is_empty() {
        content.parse::<Token![,]>()?;
        if content.is_empty() {
            break;
        }
        let key: LitStr = content.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format_args!("`json(...)` takes the column, then the keys as strings\nhelp: write `{example}`"),
            )
        })?;
        key.to_tokens(&mut keys);
        path.push(key.value());
    }
    if path.is_empty() {
        return Err(syn::Error::new_spanned(
            &json,
            format_args!(
                "`json({column})` names no field\nhelp: give the keys to the field: `{example}`"
            ),
        ));
    }
    if let Some(empty) = path.iter().find(|k| k.is_empty()) {
        return Err(syn::Error::new_spanned(
            &keys,
            format_args!("a JSON key cannot be empty ({empty:?})\nhelp: write `{example}`"),
        ));
    }
    let mut tokens = quote::quote!(#json(#column, #keys));
    let as_type = if input.peek(Token![as]) {
        let as_token: Token![as] = input.parse()?;
        let ty: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if !JSON_FIELD_TYPES.iter().any(|(t, _)| ty == t) {
            let list: Vec<String> = JSON_FIELD_TYPES
                .iter()
                .map(|(t, _)| format!("`{t}`"))
                .collect();
            return Err(syn::Error::new_spanned(
                &ty,
                format_args!(
                    "a JSON field cannot be indexed as `{ty}`\nhelp: read it as one of {} (text when `as` is left out)",
                    list.join(", ")
                ),
            ));
        }
        tokens.extend(quote::quote!(#as_token #ty));
        Some(ty)
    } else {
        None
    };
    let descending = parse_direction(input, &column)?;
    Ok(KeyItem::Column(KeyColumn {
        ident: column,
        descending,
        lower: None,
        json: Some(JsonKey {
            path,
            as_type,
            tokens,
        }),
    }))
}

impl Parse for PredicateItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let column: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if !input.peek(Token![=]) {
            let tokens = column.to_token_stream();
            return Ok(PredicateItem {
                column,
                value: None,
                tokens,
            });
        }
        let eq: Token![=] = input.parse()?;
        let lit: Lit = input.parse()?;
        // Any literal parses; check.rs says which fit the column.
        let value = match &lit {
            Lit::Str(s) => Value::Str(s.value()),
            Lit::Bool(b) => Value::Bool(b.value),
            Lit::Int(i) => Value::Int(i.base10_parse().unwrap_or_default()),
            other => Value::Decimal(other.to_token_stream().to_string()),
        };
        Ok(PredicateItem {
            tokens: quote::quote!(#column #eq #lit),
            column,
            value: Some(value),
        })
    }
}

/// The inside of `keyset(...)`: `name = (columns...)`, a named order, or
/// the columns themselves.
fn named_order(input: ParseStream<'_>) -> syn::Result<(Option<Ident>, TokenStream)> {
    let named = input.peek(Ident) && input.peek2(Token![=]) && input.peek3(syn::token::Paren);
    if !named {
        return input.parse().map(|rest| (None, rest));
    }
    let name: Ident = input.call(syn::ext::IdentExt::parse_any)?;
    input.parse::<Token![=]>()?;
    let columns: proc_macro2::Group = input.parse()?;
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            rest,
            format_args!(
                "`keyset(...)` declares one order\nhelp: write each order in its own `keyset({name} = (...))`"
            ),
        ));
    }
    Ok((Some(name), columns.stream()))
}

/// An optional `asc` / `desc` after a column.
fn parse_direction(input: ParseStream<'_>, column: &Ident) -> syn::Result<bool> {
    if !input.peek(Ident) {
        return Ok(false);
    }
    let dir: Ident = input.parse()?;
    match dir.to_string().to_ascii_lowercase().as_str() {
        "asc" => Ok(false),
        "desc" => Ok(true),
        other => {
            let help = if other.starts_with("desc") {
                format!("write `{column} desc`")
            } else if other.starts_with("asc") {
                format!("write `{column} asc`")
            } else {
                format!("if `{dir}` is another column, separate it with a comma: `{column}, {dir}`")
            };
            Err(syn::Error::new_spanned(
                &dir,
                format_args!("expected `asc` or `desc` after `{column}`\nhelp: {help}"),
            ))
        }
    }
}

fn parse_key_spec(cx: &Ctxt, meta: &ParseNestedMeta<'_>, kind: Symbol) -> syn::Result<KeySpec> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`{kind}` lists its columns\nhelp: write `{kind}(column_a, column_b desc)`"
        )));
    }
    // Keep the real parenthesised group so errors point into the source.
    let group: proc_macro2::Group = meta.input.parse()?;
    let (order_name, stream) = if kind == KEYSET {
        named_order.parse2(group.stream())?
    } else {
        (None, group.stream())
    };
    let items = Punctuated::<KeyItem, Token![,]>::parse_terminated.parse2(stream)?;
    let mut name = Attr::none(cx, NAME);
    let mut using = Attr::none(cx, USING);
    let mut columns = Vec::new();
    let mut include = Vec::new();
    let mut predicate = Vec::new();
    for item in items {
        match item {
            KeyItem::Column(c) => columns.push(c),
            KeyItem::Gin(gin, c) => {
                let column = &c.ident;
                using.set(quote::quote!(#gin(#column)), "gin".to_owned());
                columns.push(c);
            }
            KeyItem::Setting(key, lit) if key == NAME => {
                name.set(quote::quote!(#key = #lit), lit.value())
            }
            KeyItem::Setting(key, lit) => using.set(quote::quote!(#key = #lit), lit.value()),
            KeyItem::Include(list) => include.extend(list),
            KeyItem::Where(list) => predicate.extend(list),
        }
    }
    let path = &meta.path;
    let tokens = quote::quote!(#path #group);
    if columns.is_empty() {
        cx.error_with_help(
            &tokens,
            format_args!("`{kind}(...)` names no columns"),
            format_args!("list at least one column: `{kind}(column_a, column_b)`"),
        );
    }
    Ok(KeySpec {
        kind,
        name: name.get(),
        order_name,
        columns,
        using: using.get(),
        include,
        predicate,
        tokens,
    })
}

/// A span of calendar time, as written: `"1 month"`, `"13 months"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    pub(crate) count: u32,
    /// `Day`, `Week`, `Month` or `Year`: the runtime's `PeriodUnit`.
    pub(crate) unit: &'static str,
}

/// `partitioned(interval = "...", keep = "...")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partitioning {
    pub(crate) interval: Period,
    pub(crate) keep: Option<Period>,
}

fn parse_period(lit: &LitStr, key: Symbol) -> syn::Result<Period> {
    let text = lit.value();
    let help = format!(
        "`{key}` is a count and a unit: \"1 day\", \"1 week\", \"1 month\", \"3 months\", \"1 year\""
    );
    let mut words = text.split_whitespace();
    let (Some(count), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err(syn::Error::new_spanned(
            lit,
            format_args!("`{key}` cannot be \"{text}\"\nhelp: {help}"),
        ));
    };
    let count: u32 = match count.parse() {
        Ok(n) if n > 0 && n <= 1000 => n,
        _ => {
            return Err(syn::Error::new_spanned(
                lit,
                format_args!("`{key}` needs a count from 1 to 1000, not \"{count}\"\nhelp: {help}"),
            ))
        }
    };
    let unit = match unit.trim_end_matches('s') {
        "day" => "Day",
        "week" => "Week",
        "month" => "Month",
        "year" => "Year",
        other => {
            return Err(syn::Error::new_spanned(
                lit,
                format_args!("`{key}` has no unit \"{other}\"\nhelp: {help}"),
            ))
        }
    };
    Ok(Period { count, unit })
}

fn parse_partitioning(meta: &ParseNestedMeta<'_>) -> syn::Result<(Partitioning, TokenStream)> {
    let path = &meta.path;
    let example = "partitioned(interval = \"1 month\", keep = \"13 months\")";
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`partitioned` says how long each partition's span is, and how long partitions are kept\n\
             help: write `{example}` (`keep` may be left out: kept forever)"
        )));
    }
    let mut interval = None;
    let mut keep = None;
    let mut tokens = path.to_token_stream();
    meta.parse_nested_meta(|inner| {
        let key = if inner.path == INTERVAL {
            INTERVAL
        } else if inner.path == KEEP {
            KEEP
        } else {
            return Err(inner.error(format_args!(
                "`partitioned` takes `interval` and `keep`\nhelp: write `{example}`"
            )));
        };
        let lit = expect_str(&inner, key, "interval = \"1 month\"")?;
        tokens.extend(lit.to_token_stream());
        let period = parse_period(&lit, key)?;
        if key == INTERVAL {
            interval = Some(period);
        } else {
            keep = Some(period);
        }
        Ok(())
    })?;
    let Some(interval) = interval else {
        return Err(meta.error(format_args!(
            "`partitioned` needs the span of each partition\nhelp: write `{example}`"
        )));
    };
    Ok((Partitioning { interval, keep }, tokens))
}
