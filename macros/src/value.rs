//! `#[column(default = ...)]` and `#[column(backfill = ...)]`: constants
//! checked against the field's type, and the `ColumnDefault` they become.
//!
//! What the macro can see (the literal and the field's type shape) is
//! checked here, with a span on the literal; what only the type knows (an
//! enum's values, whether a type is JSON or an array) is asked at compile
//! time by a const assertion spanned the same way.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::ast::{Container, Field};
use crate::attr::{Spanned, Value};
use crate::ctxt::Ctxt;
use crate::pg_type::Kind;
use crate::symbol::{Symbol, BACKFILL, DEFAULT};

/// The columns whose values the conventions fix.
const AUDIT: [&str; 5] = ["id", "created_at", "updated_at", "deleted_at", "version"];

/// Reports every default or backfill that does not fit its field.
pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    for f in &cont.fields {
        for (key, slot) in [(DEFAULT, &f.attrs.default), (BACKFILL, &f.attrs.backfill)] {
            let Some(v) = slot else { continue };
            if AUDIT.contains(&f.column.as_str()) {
                cx.error_with_help(
                    &v.tokens,
                    format_args!(
                        "`{key}` on \"{}\": the conventions decide this column's value",
                        f.column
                    ),
                    format_args!("remove `{key} = ...`"),
                );
                continue;
            }
            if key == BACKFILL && f.col.nullable {
                cx.error_with_help(
                    &v.tokens,
                    format_args!(
                        "`backfill` gives existing rows a value when a column becomes NOT NULL, but \"{}\" is an `Option` and takes NULL",
                        f.column
                    ),
                    "remove `backfill = ...`, or make the field non-optional",
                );
                continue;
            }
            if let Err((message, help)) = fits(f, &v.value) {
                cx.error_with_help(&v.tokens, message, help);
            }
        }
    }
}

/// What one literal means for a field of this kind, or why it does not fit.
fn fits(f: &Field<'_>, value: &Value) -> Result<(), (String, String)> {
    let col = &f.column;
    let a = &f.attrs;
    let example = example(f);
    let mismatch = |what: &str| {
        Err((
            format!("{what} does not fit \"{col}\", {} column", kind_name(f)),
            match &example {
                Some(e) => format!("write {e}"),
                None => "this column takes no constant; remove it".to_owned(),
            },
        ))
    };
    match (value, f.col.kind) {
        (Value::Int(v), Kind::SmallInt | Kind::Integer | Kind::BigInt | Kind::Decimal) => {
            let (lo, hi) = match f.col.kind {
                Kind::SmallInt => (i16::MIN as i128, i16::MAX as i128),
                Kind::Integer => (i32::MIN as i128, i32::MAX as i128),
                Kind::BigInt => (i64::MIN as i128, i64::MAX as i128),
                _ => (i128::MIN, i128::MAX),
            };
            if *v < lo || *v > hi {
                return Err((
                    format!("{v} is out of range for \"{col}\" ({lo} to {hi})"),
                    "use a value the column's type holds".to_owned(),
                ));
            }
            if f.col.kind == Kind::Decimal {
                decimal_fits(f, &v.to_string())?;
            }
            bounds(f, *v)
        }
        (Value::Decimal(d), Kind::Decimal) => decimal_fits(f, d),
        (Value::Str(s), Kind::Text) => {
            let chars = s.chars().count();
            if let Some(max) = a.max_len.as_ref().filter(|m| chars > m.value as usize) {
                return Err((
                    format!(
                        "{s:?} is {chars} characters long, but \"{col}\" allows at most {}",
                        max.value
                    ),
                    "shorten it, or raise `max_len`".to_owned(),
                ));
            }
            if let Some(min) = a.min_len.as_ref().filter(|m| chars < m.value as usize) {
                return Err((
                    format!(
                        "{s:?} is {chars} characters long, but \"{col}\" needs at least {}",
                        min.value
                    ),
                    "lengthen it, or lower `min_len`".to_owned(),
                ));
            }
            Ok(())
        }
        // An enum's values (or a custom text type) are asked at compile time.
        (Value::Str(_), Kind::Other) => Ok(()),
        (Value::Bool(_), Kind::Bool) => Ok(()),
        (Value::Now, Kind::Timestamptz) => Ok(()),
        // JSON or an array: the type is asked at compile time.
        (Value::EmptyArray | Value::EmptyObject, Kind::Plain | Kind::Other) => Ok(()),
        (Value::Int(v), _) => mismatch(&format!("the integer {v}")),
        (Value::Decimal(d), _) => mismatch(&format!("the number {d}")),
        (Value::Str(s), _) => mismatch(&format!("the string {s:?}")),
        (Value::Bool(b), _) => mismatch(&format!("`{b}`")),
        (Value::Now, _) => mismatch("`now`"),
        (Value::EmptyArray, _) => mismatch("`[]`"),
        (Value::EmptyObject, _) => mismatch("`{}`"),
    }
}

/// The value's digits against the column's `precision` and `scale`.
fn decimal_fits(f: &Field<'_>, digits: &str) -> Result<(), (String, String)> {
    let unsigned = digits.trim_start_matches('-');
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let int_digits = int.trim_start_matches('0').len();
    let scale = f.attrs.scale.as_ref().map_or(0, |s| s.value as usize);
    if let (Some(_), Some(s)) = (&f.attrs.precision, &f.attrs.scale) {
        if frac.len() > s.value as usize {
            return Err((
                format!(
                    "{digits} has {} digits after the point, but \"{}\" keeps {} (scale = {}): PostgreSQL would round it",
                    frac.len(),
                    f.column,
                    s.value,
                    s.value
                ),
                "write it with at most that many decimals".to_owned(),
            ));
        }
    }
    if let Some(p) = &f.attrs.precision {
        let room = (p.value as usize).saturating_sub(scale);
        if int_digits > room {
            return Err((
                format!(
                    "{digits} has {int_digits} digits before the point, but \"{}\" holds {room} (precision {} minus scale {scale})",
                    f.column, p.value
                ),
                "use a smaller value, or raise `precision`".to_owned(),
            ));
        }
    }
    // A whole number keeps its `min` / `max` bounds too.
    match unsigned.split_once('.') {
        None => digits.parse::<i128>().map_or(Ok(()), |v| bounds(f, v)),
        Some(_) => Ok(()),
    }
}

/// The value against the column's `min` and `max` checks.
fn bounds(f: &Field<'_>, v: i128) -> Result<(), (String, String)> {
    if let Some(min) = f.attrs.min.as_ref().filter(|m| v < m.value as i128) {
        return Err((
            format!("{v} breaks \"{}\"'s check `min = {}`", f.column, min.value),
            "use a value the check allows".to_owned(),
        ));
    }
    if let Some(max) = f.attrs.max.as_ref().filter(|m| v > m.value as i128) {
        return Err((
            format!("{v} breaks \"{}\"'s check `max = {}`", f.column, max.value),
            "use a value the check allows".to_owned(),
        ));
    }
    Ok(())
}

fn kind_name(f: &Field<'_>) -> &'static str {
    match f.col.kind {
        Kind::Uuid => "a UUID",
        Kind::Text => "a text",
        Kind::Bool => "a boolean",
        Kind::SmallInt | Kind::Integer | Kind::BigInt => "an integer",
        Kind::Decimal => "a decimal",
        Kind::Timestamptz => "a timestamp",
        Kind::Plain => "a JSON, array or date",
        Kind::Other => "an enum or custom",
    }
}

/// The literal to suggest for a field, by its kind.
fn example(f: &Field<'_>) -> Option<String> {
    Some(match f.col.kind {
        Kind::Text => "a string, e.g. `default = \"draft\"`".to_owned(),
        Kind::Bool => "a boolean, e.g. `default = false`".to_owned(),
        Kind::SmallInt | Kind::Integer | Kind::BigInt => {
            "a whole number, e.g. `default = 0`".to_owned()
        }
        Kind::Decimal => "a number, e.g. `default = 0.00`".to_owned(),
        Kind::Timestamptz => "`default = now`".to_owned(),
        Kind::Plain => {
            "`default = []` (an empty array or JSON array) or `{}` (an empty JSON object)"
                .to_owned()
        }
        Kind::Other => {
            "a string naming one of the enum's stored values, e.g. `default = \"active\"`"
                .to_owned()
        }
        Kind::Uuid => return None,
    })
}

/// `ColumnDefault` tokens for `default = ...` (or `backfill = ...`), with
/// the const assertions that check what only the type knows.
pub(crate) fn tokens(
    f: &Field<'_>,
    key: Symbol,
    value: &Spanned<Value>,
    assertions: &mut Vec<TokenStream>,
) -> TokenStream {
    let p = quote!(::ordinance::__private);
    let ty = f.col.inner;
    let span = value.tokens.span();
    let col = &f.column;
    let d = quote!(#p::ColumnDefault);
    match &value.value {
        Value::Int(v) => {
            let v = *v as i64;
            quote!(#d::Integer(#v))
        }
        Value::Decimal(s) => quote!(#d::Decimal(#s)),
        Value::Str(s) => {
            if f.col.kind == Kind::Other {
                let shown = format!("{s:?}").replace('{', "{{").replace('}', "}}");
                let snake = crate::naming::snake_case(s);
                let hint = if snake != *s && !snake.is_empty() {
                    format!("; did you mean \"{snake}\"?")
                } else {
                    String::new()
                };
                let written = if key == crate::symbol::WHERE {
                    format!("where({col} = {shown})")
                } else {
                    format!("{key} = {shown}")
                };
                let msg = format!(
                    "`{written}` is not a value \"{col}\" can hold: name one of its enum's variants \
                     as stored, in snake_case{hint}"
                );
                assertions.push(quote_spanned! {span=>
                    const _: () = ::core::assert!(
                        #p::text_value_allowed::<#ty>(#s),
                        #msg
                    );
                });
            }
            quote!(#d::Text(#s))
        }
        Value::Bool(b) => quote!(#d::Boolean(#b)),
        Value::Now => quote!(#d::Now),
        Value::EmptyArray => {
            let msg =
                format!("`{key} = []` needs an array or JSON column, but \"{col}\" is neither");
            assertions.push(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    #p::takes_empty_array(<#ty as #p::ColumnType>::SQL_TYPE),
                    #msg
                );
            });
            quote! {
                if ::core::matches!(<#ty as #p::ColumnType>::SQL_TYPE, #p::SqlType::Jsonb) {
                    #d::EmptyJsonArray
                } else {
                    #d::EmptyArray
                }
            }
        }
        Value::EmptyObject => {
            // Braces doubled: the message is a format string.
            let msg = format!("`{key} = {{{{}}}}` needs a JSON column, but \"{col}\" is not JSON");
            assertions.push(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    ::core::matches!(<#ty as #p::ColumnType>::SQL_TYPE, #p::SqlType::Jsonb),
                    #msg
                );
            });
            quote!(#d::EmptyJsonObject)
        }
    }
}
