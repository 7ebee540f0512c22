//! Structural classification of a field's Rust type.
//!
//! The PostgreSQL type itself is not decided here: the generated code asks the
//! runtime's `ColumnType` trait, so user types can opt in. This module only
//! recognises, by the shape of the syn type (never by string matching), what
//! the conventions need to know: nullability, the few types the rules talk
//! about, and the types that are rejected outright.

use syn::{GenericArgument, PathArguments, Type, TypePath};

/// The types the convention rules name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Uuid,
    Text,
    Bool,
    SmallInt,
    Integer,
    BigInt,
    Decimal,
    Timestamptz,
    /// `NaiveDate`, JSON (`Value`, `Json<T>`) and `Vec<T>`: types the rules
    /// do not single out, but that are known not to be enums.
    Plain,
    /// Any other type; the runtime's `ColumnType` trait decides whether it can be stored.
    Other,
}

/// A type the conventions reject, with the message and the type to use instead.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Rejection {
    pub(crate) message: String,
    pub(crate) help: String,
    /// The rule that can waive it, if any.
    pub(crate) waivable_as: Option<&'static str>,
}

/// What a field's type means for the rules.
pub(crate) struct ColumnTy<'a> {
    /// `Option<T>`: the column is nullable.
    pub(crate) nullable: bool,
    /// `T` with the `Option` removed.
    pub(crate) inner: &'a Type,
    pub(crate) kind: Kind,
    /// For an array (`Vec<T>` or `Vec<Option<T>>`, not `Vec<u8>`): the
    /// kind of its elements.
    pub(crate) element: Option<Kind>,
    /// An array whose elements may be NULL (`Vec<Option<T>>`).
    pub(crate) element_nullable: bool,
    pub(crate) rejection: Option<Rejection>,
}

impl ColumnTy<'_> {
    pub(crate) fn is(&self, kind: Kind) -> bool {
        self.kind == kind
    }

    pub(crate) fn is_integer(&self) -> bool {
        matches!(self.kind, Kind::SmallInt | Kind::Integer | Kind::BigInt)
    }
}

/// The last path segment of a plain type path (`chrono::DateTime<Utc>` -> `DateTime`).
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath {
            qself: None, path, ..
        }) => path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The single generic type argument of a segment (`Option<T>` -> `T`).
fn single_type_arg(seg: &syn::PathSegment) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_none())
}

/// The `T` of `Option<T>`, if `ty` is an `Option`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    single_type_arg(seg)
}

pub(crate) fn classify(ty: &Type) -> ColumnTy<'_> {
    let (nullable, inner) = match option_inner(ty) {
        Some(inner) => (true, inner),
        None => (false, ty),
    };
    let (kind, rejection) = classify_inner(inner);
    let array = array_element(inner);
    let element = array.map(|e| classify_inner(option_inner(e).unwrap_or(e)).0);
    let element_nullable = array.is_some_and(|e| option_inner(e).is_some());
    ColumnTy {
        nullable,
        inner,
        kind,
        element,
        element_nullable,
        rejection,
    }
}

/// Whether the type is a JSON document (`serde_json::Value`, `Json<T>`):
/// a `JSONB` column.
pub(crate) fn is_json(ty: &Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    last_segment(ty).is_some_and(|s| {
        (s.ident == "Value" && s.arguments.is_none())
            || (s.ident == "Json" && single_type_arg(s).is_some())
    })
}

/// Whether the type is `Json<T>` (or `Option<Json<T>>`): a JSON document
/// typed by the application, where `serde_json::Value` is untyped.
pub(crate) fn is_json_wrapper(ty: &Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    last_segment(ty).is_some_and(|s| s.ident == "Json" && single_type_arg(s).is_some())
}

/// The `T` of `Vec<T>` when the vector is an array column (every `Vec`
/// but `Vec<u8>`, which is `BYTEA`).
pub(crate) fn array_element(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Vec" {
        return None;
    }
    single_type_arg(seg).filter(|t| !is_named(t, "u8"))
}

/// Why an array of this element type cannot be stored, if it cannot.
fn array_rejection(element: &Type) -> Option<(Kind, Option<Rejection>)> {
    let inner = option_inner(element).unwrap_or(element);
    if array_element(inner).is_some() || option_inner(inner).is_some() {
        return Some(reject(
            "arrays of arrays cannot be stored: PostgreSQL's arrays are rectangular and untyped by depth",
            "use a `serde_json::Value` or `Json<T>` (JSONB) column for nested lists",
        ));
    }
    let (_, rejection) = classify_inner(inner);
    rejection.map(|r| {
        // A waiver covers a column, not an array's elements.
        let help = match r.waivable_as {
            Some("float") => {
                "use `Vec<rust_decimal::Decimal>` (NUMERIC[]); arrays of floats cannot be waived"
                    .to_owned()
            }
            _ => r.help,
        };
        reject(
            format!("this array's elements cannot be stored: {}", r.message),
            help,
        )
    })
}

fn reject(message: impl Into<String>, help: impl Into<String>) -> (Kind, Option<Rejection>) {
    (
        Kind::Other,
        Some(Rejection {
            message: message.into(),
            help: help.into(),
            waivable_as: None,
        }),
    )
}

fn classify_inner(ty: &Type) -> (Kind, Option<Rejection>) {
    if let Type::Reference(_) = ty {
        return reject(
            "borrowed types cannot be entity columns",
            "use an owned type such as `String` or `Vec<u8>`",
        );
    }
    if option_inner(ty).is_some() {
        return reject(
            "`Option<Option<T>>` cannot be stored: a column is either NULL or a value",
            "use a single `Option<T>`",
        );
    }
    let Some(seg) = last_segment(ty) else {
        return reject(
            "this kind of type cannot be an entity column",
            "use a named type such as `String`, `i64`, `Uuid` or a type implementing `ordinance::ColumnType`",
        );
    };
    let name = seg.ident.to_string();
    let plain = seg.arguments.is_none();
    match name.as_str() {
        "Uuid" if plain => (Kind::Uuid, None),
        "String" if plain => (Kind::Text, None),
        "bool" if plain => (Kind::Bool, None),
        "i16" if plain => (Kind::SmallInt, None),
        "i32" if plain => (Kind::Integer, None),
        "i64" if plain => (Kind::BigInt, None),
        "Decimal" if plain => (Kind::Decimal, None),
        "NaiveDate" if plain => (Kind::Plain, None),
        "Value" if plain => (Kind::Plain, None),
        "Vec" => match single_type_arg(seg) {
            Some(element) if is_named(element, "u8") => (Kind::Plain, None),
            Some(element) => array_rejection(element).unwrap_or((Kind::Plain, None)),
            None => (Kind::Other, None),
        },
        "Json" if single_type_arg(seg).is_some() => (Kind::Plain, None),
        "DateTime" => match single_type_arg(seg) {
            Some(tz) if is_named(tz, "Utc") => (Kind::Timestamptz, None),
            _ => reject(
                "only `DateTime<Utc>` can be stored: PostgreSQL's TIMESTAMPTZ keeps instants, not offsets",
                "use `DateTime<Utc>` (TIMESTAMPTZ) and convert to a local zone when displaying",
            ),
        },
        "f32" | "f64" if plain => (
            Kind::Other,
            Some(Rejection {
                message: format!("`{name}` columns are not allowed: floats lose money and exact quantities"),
                help: "use `rust_decimal::Decimal` (NUMERIC), or waive with \
                       `#[column(exempt(float = \"why approximate values are fine\"))]`"
                    .to_owned(),
                waivable_as: Some("float"),
            }),
        ),
        "NaiveDateTime" if plain => reject(
            "`NaiveDateTime` is not allowed: a timestamp without a time zone is ambiguous",
            "use `DateTime<Utc>` (TIMESTAMPTZ)",
        ),
        "u8" | "u16" if plain => unsigned(&name, "i32", "INTEGER"),
        "u32" if plain => unsigned(&name, "i64", "BIGINT"),
        "u64" | "u128" | "usize" if plain => {
            let (kind, rejection) = unsigned(&name, "i64", "BIGINT");
            let rejection = rejection.map(|mut r| {
                r.help.push_str("; for values above i64::MAX use `Decimal` (NUMERIC)");
                r
            });
            (kind, rejection)
        }
        "i8" if plain => reject(
            "`i8` cannot be stored: PostgreSQL has no 1-byte integer",
            "use `i16` (SMALLINT)",
        ),
        "i128" if plain => reject(
            "`i128` cannot be stored: PostgreSQL has no 16-byte integer",
            "use `i64` (BIGINT) or `Decimal` (NUMERIC)",
        ),
        "isize" if plain => reject(
            "`isize` cannot be stored: its size depends on the platform",
            "use `i64` (BIGINT)",
        ),
        "char" if plain => reject(
            "`char` cannot be stored: PostgreSQL's \"char\" is a single byte",
            "use `String` (TEXT) with `#[column(max_len = 1)]`",
        ),
        "str" if plain => reject("`str` cannot be stored", "use `String` (TEXT)"),
        _ => (Kind::Other, None),
    }
}

fn unsigned(name: &str, signed: &str, pg: &str) -> (Kind, Option<Rejection>) {
    reject(
        format!("`{name}` cannot be stored: PostgreSQL has no unsigned integers"),
        format!("use `{signed}` ({pg}) and add `#[column(min = 0)]` to keep it non-negative"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Type {
        syn::parse_str(src).expect("test type parses")
    }

    #[test]
    fn recognises_known_kinds_and_options() {
        let cases = [
            ("Uuid", Kind::Uuid, false),
            ("uuid::Uuid", Kind::Uuid, false),
            ("Option<Uuid>", Kind::Uuid, true),
            ("String", Kind::Text, false),
            ("std::option::Option<String>", Kind::Text, true),
            ("bool", Kind::Bool, false),
            ("i16", Kind::SmallInt, false),
            ("i32", Kind::Integer, false),
            ("i64", Kind::BigInt, false),
            ("rust_decimal::Decimal", Kind::Decimal, false),
            ("DateTime<Utc>", Kind::Timestamptz, false),
            ("chrono::DateTime<chrono::Utc>", Kind::Timestamptz, false),
            ("Option<DateTime<Utc>>", Kind::Timestamptz, true),
            ("Vec<String>", Kind::Plain, false),
            ("Vec<Option<i64>>", Kind::Plain, false),
            ("Option<Vec<Decimal>>", Kind::Plain, true),
            ("Option<NaiveDate>", Kind::Plain, true),
            ("serde_json::Value", Kind::Plain, false),
            ("Json<Settings>", Kind::Plain, false),
            ("Status", Kind::Other, false),
        ];
        for (src, kind, nullable) in cases {
            let t = ty(src);
            let c = classify(&t);
            assert_eq!(c.kind, kind, "{src}");
            assert_eq!(c.nullable, nullable, "{src}");
            assert!(c.rejection.is_none(), "{src}");
        }
    }

    #[test]
    fn rejects_types_postgres_cannot_hold() {
        for src in [
            "f32",
            "f64",
            "Option<f64>",
            "NaiveDateTime",
            "u8",
            "u16",
            "u32",
            "u64",
            "usize",
            "i8",
            "i128",
            "isize",
            "DateTime<Local>",
            "Option<Option<i32>>",
            "&'static str",
            "Vec<Vec<i32>>",
            "Vec<Option<Vec<i32>>>",
            "Vec<f64>",
            "Vec<u32>",
            "Vec<NaiveDateTime>",
        ] {
            let t = ty(src);
            assert!(classify(&t).rejection.is_some(), "{src} should be rejected");
        }
        let t = ty("Vec<Option<Decimal>>");
        assert_eq!(classify(&t).element, Some(Kind::Decimal));
        let t = ty("Vec<u8>");
        assert_eq!(classify(&t).element, None);
        let t = ty("f64");
        assert_eq!(
            classify(&t).rejection.and_then(|r| r.waivable_as),
            Some("float")
        );
        let t = ty("u32");
        assert!(classify(&t)
            .rejection
            .is_some_and(|r| r.help.contains("`i64`")));
    }
}
