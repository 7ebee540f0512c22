//! What the `serde` feature adds: the derive's `Serialize` / `Deserialize`
//! of entities, `New…` and `…Patch` structs run through the helpers here;
//! keyset orders travel by name, pages as their items and cursors, and
//! violations as the fields of a 422 body.
//!
//! A sensitive column is left out when an entity (or an input struct) is
//! serialized; [`Reveal`] asks for it. Deserializing takes every column
//! given: a service that must not accept one from a client leaves it out of
//! its input type.

use serde::de::{self, Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use crate::checks::{Rule, Violation};
use crate::column_type::Json;
use crate::entity::KeysetOrder;
use crate::page::Page;

/// Serializes a struct the derive wrote, with or without its sensitive
/// columns. Implemented by the derive for the entity, `New…` and `…Patch`.
#[doc(hidden)]
pub trait SerializeFields {
    /// The struct's fields as a serde struct; sensitive ones only when
    /// `reveal`.
    fn serialize_fields<S: Serializer>(
        &self,
        serializer: S,
        reveal: bool,
    ) -> Result<S::Ok, S::Error>;
}

/// Serializes an entity (or a `New…` / `…Patch`, a slice of them, a page
/// of them) with its `#[column(sensitive)]` columns, which plain
/// serialization leaves out.
///
/// ```
/// use ordinance::prelude::*;
/// use ordinance::Reveal;
///
/// #[derive(Entity)]
/// pub struct Account {
///     pub id: Uuid,
///     #[column(sensitive, max_len = 320)]
///     pub email: String,
///     pub created_at: DateTime<Utc>,
///     pub updated_at: DateTime<Utc>,
///     pub deleted_at: Option<DateTime<Utc>>,
///     pub version: i32,
/// }
///
/// let new = NewAccount { email: "ada@example.com".into() };
/// assert_eq!(serde_json::to_string(&new).unwrap(), "{}");
/// assert_eq!(
///     serde_json::to_string(&Reveal(&new)).unwrap(),
///     r#"{"email":"ada@example.com"}"#
/// );
/// ```
#[derive(Clone, Copy)]
pub struct Reveal<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> std::fmt::Debug for Reveal<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What is revealed is for the serializer, never for a log line.
        f.write_str("Reveal(..)")
    }
}

impl<T: SerializeFields> Serialize for Reveal<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_fields(serializer, true)
    }
}

impl<T: SerializeFields> Serialize for Reveal<'_, [T]> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&Reveal(item))?;
        }
        seq.end()
    }
}

impl<T: SerializeFields> Serialize for Reveal<'_, Vec<T>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Reveal(self.0.as_slice()).serialize(serializer)
    }
}

impl<T: SerializeFields> Serialize for Reveal<'_, Page<T>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        page(serializer, &Reveal(self.0.items.as_slice()), self.0)
    }
}

/// A page as `{"items": [...], "next": cursor or null, "previous": cursor
/// or null}`: what a list endpoint returns. The cursors are the strings
/// [`Repo::page_at`](crate::repo::Repo::page_at) takes back.
impl<T: Serialize> Serialize for Page<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        page(serializer, &self.items, self)
    }
}

fn page<S: Serializer, T, I: Serialize + ?Sized>(
    serializer: S,
    items: &I,
    page: &Page<T>,
) -> Result<S::Ok, S::Error> {
    let mut st = serializer.serialize_struct("Page", 3)?;
    st.serialize_field("items", items)?;
    st.serialize_field("next", &page.next)?;
    st.serialize_field("previous", &page.previous)?;
    st.end()
}

/// A violation as `{"field": "title", "column": "title", "rule":
/// "max_len", "max": 100, "message": "longer than 100 characters (max_len
/// = 100)"}` (the message is the rule's `Display`), with `"element"` for an array column: one entry of a 422
/// body. Never the value.
impl Serialize for Violation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("field", self.field)?;
        map.serialize_entry("column", self.column)?;
        if let Some(element) = self.element {
            map.serialize_entry("element", &element)?;
        }
        rule_entries(&mut map, &self.rule)?;
        map.serialize_entry("message", &self.rule.to_string())?;
        map.end()
    }
}

/// A rule as `{"rule": "max_len", "max": 100}`: its name and its limits,
/// by the names of the variant's fields.
impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        rule_entries(&mut map, self)?;
        map.end()
    }
}

fn rule_entries<M: SerializeMap>(map: &mut M, rule: &Rule) -> Result<(), M::Error> {
    map.serialize_entry("rule", rule.name())?;
    match *rule {
        Rule::MinLen { min } => map.serialize_entry("min", &min),
        Rule::MaxLen { max } => map.serialize_entry("max", &max),
        Rule::Min { min } => map.serialize_entry("min", &min),
        Rule::Max { max } => map.serialize_entry("max", &max),
        Rule::Scale { scale } => map.serialize_entry("scale", &scale),
        Rule::Precision { precision, scale } => {
            map.serialize_entry("precision", &precision)?;
            map.serialize_entry("scale", &scale)
        }
    }
}

/// A keyset order as its name (`"newest"`).
#[doc(hidden)]
pub fn serialize_order<O: KeysetOrder, S: Serializer>(
    order: O,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(order.name())
}

/// A keyset order from its name; an unknown name is an error listing the
/// declared ones.
#[doc(hidden)]
pub fn deserialize_order<'de, O: KeysetOrder, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<O, D::Error> {
    struct Name<O>(std::marker::PhantomData<O>);
    impl<O: KeysetOrder> de::Visitor<'_> for Name<O> {
        type Value = O;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the name of a keyset order")
        }
        fn visit_str<E: de::Error>(self, name: &str) -> Result<O, E> {
            O::from_name(name).ok_or_else(|| {
                let names: Vec<String> = O::ALL.iter().map(|o| format!("`{}`", o.name())).collect();
                E::custom(format_args!(
                    "unknown order `{name}`, expected {}",
                    names.join(" or ")
                ))
            })
        }
    }
    deserializer.deserialize_str(Name(std::marker::PhantomData))
}

/// A `Json<T>` column's document, serialized as `T`.
#[doc(hidden)]
pub struct SerJson<'a, T>(pub &'a Json<T>);

impl<T> std::fmt::Debug for SerJson<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SerJson(..)")
    }
}

impl<T: Serialize> Serialize for SerJson<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0 .0.serialize(serializer)
    }
}

/// `deserialize_with` of a `Json<T>` field.
#[doc(hidden)]
pub fn json<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Json<T>, D::Error> {
    T::deserialize(d).map(Json)
}

/// `deserialize_with` of an `Option<Json<T>>` field.
#[doc(hidden)]
pub fn json_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Json<T>>, D::Error> {
    Option::<T>::deserialize(d).map(|v| v.map(Json))
}

/// `deserialize_with` of a patch field of a NOT NULL column: present means
/// set, and `null` is refused (the column cannot hold it).
#[doc(hidden)]
pub fn set<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `deserialize_with` of a patch field of a nullable column: present
/// means set, `null` included (`Some(None)`); absent leaves it (`None`,
/// from the field's default).
#[doc(hidden)]
pub fn set_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// [`set`] of a `Json<T>` column.
#[doc(hidden)]
pub fn set_json<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Json<T>>, D::Error> {
    json(d).map(Some)
}

/// [`set_or_null`] of a `Json<T>` column.
#[doc(hidden)]
pub fn set_json_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<Json<T>>>, D::Error> {
    json_or_null(d).map(Some)
}
