//! The cursor codec: a page boundary's sort-key values as an opaque,
//! URL-safe string, optionally signed.
//!
//! Layout (before base64): a version byte, a flags byte (direction,
//! signed), FNV-1a fingerprints of the entity, the order and the scope +
//! filter (4 bytes each), the number of keys, each key as a type tag and its
//! value, then an HMAC-SHA256 over all of that when signed.
//!
//! Every key column has a bounded encoded size (text keys declare `max_len`
//! or are enums), so each order has a largest cursor, computed from its
//! columns: every page's cursor fits, and anything longer is refused before
//! it is decoded. A decoded value PostgreSQL would refuse — a timestamp or
//! date outside its range, a NUL byte or over-long text — is refused here
//! too, signed or not, so a cursor never becomes a database error.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use hmac::Mac as _;
use rust_decimal::Decimal;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::{CursorError, Error, Result};
use crate::schema::{CheckKind, Column, EnumType, SqlType, TableSchema};

const VERSION: u8 = 1;
const FLAG_BACKWARD: u8 = 1;
const FLAG_SIGNED: u8 = 2;
const HEADER_LEN: usize = 15;
const TAG_LEN: usize = 32;

/// The earliest instant PostgreSQL's `timestamptz` holds (4714-11-24 BC,
/// Julian day 0), in microseconds since the Unix epoch.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Which way a page runs from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The rows after the boundary row, in display order.
    Forward,
    /// The rows before the boundary row, returned in display order too.
    Backward,
}

/// One sort-key value of a boundary row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyValue {
    Uuid(Uuid),
    Text(String),
    Bool(bool),
    SmallInt(i16),
    Integer(i32),
    BigInt(i64),
    Numeric(Decimal),
    /// Microseconds since the Unix epoch: PostgreSQL's precision.
    Timestamptz(i64),
    /// Days since 0001-01-01 (day 1).
    Date(i32),
}

/// The most bytes a `Numeric` key's text takes: 28 digits, a sign and a point.
const NUMERIC_TEXT_MAX: usize = 31;

impl KeyValue {
    fn tag(&self) -> u8 {
        match self {
            KeyValue::Uuid(_) => 1,
            KeyValue::Text(_) => 2,
            KeyValue::Bool(_) => 3,
            KeyValue::SmallInt(_) => 4,
            KeyValue::Integer(_) => 5,
            KeyValue::BigInt(_) => 6,
            KeyValue::Numeric(_) => 7,
            KeyValue::Timestamptz(_) => 8,
            KeyValue::Date(_) => 9,
        }
    }

    /// A key of a column of `sql_type`, standing in for a cursor's (the
    /// statement catalog's page); `None` for a type no key holds.
    #[cfg(any(feature = "tools", feature = "testing"))]
    pub(crate) fn sample(sql_type: SqlType) -> Option<KeyValue> {
        Some(match sql_type {
            SqlType::Uuid => KeyValue::Uuid(Uuid::nil()),
            SqlType::Text | SqlType::Enum(_) => KeyValue::Text(String::new()),
            SqlType::Boolean => KeyValue::Bool(false),
            SqlType::SmallInt => KeyValue::SmallInt(0),
            SqlType::Integer => KeyValue::Integer(0),
            SqlType::BigInt => KeyValue::BigInt(0),
            SqlType::Numeric { .. } => KeyValue::Numeric(Decimal::ZERO),
            SqlType::Timestamptz => KeyValue::Timestamptz(0),
            SqlType::Date => KeyValue::Date(pg_min_date().num_days_from_ce()),
            _ => return None,
        })
    }

    /// The value of column `position` of `row`.
    pub(crate) fn read(row: &Row, position: usize, schema: &'static TableSchema) -> Result<Self> {
        use crate::entity::decode;
        let p = position;
        let Some(column) = schema.columns.get(position) else {
            return Err(Error::UnsupportedValue(format!(
                "column {position} of `{}` as a sort key",
                schema.name
            )));
        };
        Ok(match column.sql_type {
            SqlType::Uuid => KeyValue::Uuid(decode(row, 0, p, schema)?),
            SqlType::Text => KeyValue::Text(decode(row, 0, p, schema)?),
            SqlType::Enum(_) => {
                KeyValue::Text(decode::<crate::column_type::EnumLabel>(row, 0, p, schema)?.0)
            }
            SqlType::Boolean => KeyValue::Bool(decode(row, 0, p, schema)?),
            SqlType::SmallInt => KeyValue::SmallInt(decode(row, 0, p, schema)?),
            SqlType::Integer => KeyValue::Integer(decode(row, 0, p, schema)?),
            SqlType::BigInt => KeyValue::BigInt(decode(row, 0, p, schema)?),
            SqlType::Numeric { .. } => KeyValue::Numeric(decode(row, 0, p, schema)?),
            SqlType::Timestamptz => {
                KeyValue::Timestamptz(decode::<DateTime<Utc>>(row, 0, p, schema)?.timestamp_micros())
            }
            SqlType::Date => {
                KeyValue::Date(decode::<NaiveDate>(row, 0, p, schema)?.num_days_from_ce())
            },
            other => {
                return Err(Error::UnsupportedValue(format!(
                    "{other} column `{}` as a sort key (use text, integers, uuid, numeric, date or timestamptz)",
                    column.name
                )))
            }
        })
    }

    /// The value as sea-query binds it; a key of a native enum column
    /// (`native`) as that enum, so it compares in the type's order.
    pub(crate) fn value(&self, native: Option<&'static EnumType>) -> sea_query::Value {
        use sea_query::Value as V;
        if let (KeyValue::Text(v), Some(e)) = (self, native) {
            return crate::column_type::enum_label(e.name, Some(v.clone()));
        }
        match self {
            KeyValue::Uuid(v) => V::Uuid(Some(*v)),
            KeyValue::Text(v) => V::String(Some(v.clone())),
            KeyValue::Bool(v) => V::Bool(Some(*v)),
            KeyValue::SmallInt(v) => V::SmallInt(Some(*v)),
            KeyValue::Integer(v) => V::Int(Some(*v)),
            KeyValue::BigInt(v) => V::BigInt(Some(*v)),
            KeyValue::Numeric(v) => V::Decimal(Some(*v)),
            // Checked when decoded: the micros fit a DateTime.
            KeyValue::Timestamptz(v) => V::ChronoDateTimeUtc(DateTime::from_timestamp_micros(*v)),
            KeyValue::Date(v) => V::ChronoDate(NaiveDate::from_num_days_from_ce_opt(*v)),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            KeyValue::Uuid(v) => out.extend_from_slice(v.as_bytes()),
            KeyValue::Text(v) => {
                out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            KeyValue::Bool(v) => out.push(u8::from(*v)),
            KeyValue::SmallInt(v) => out.extend_from_slice(&v.to_be_bytes()),
            KeyValue::Integer(v) | KeyValue::Date(v) => out.extend_from_slice(&v.to_be_bytes()),
            KeyValue::BigInt(v) | KeyValue::Timestamptz(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            KeyValue::Numeric(v) => {
                let text = v.to_string();
                out.push(text.len() as u8);
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    fn decode(input: &mut Reader<'_>) -> std::result::Result<KeyValue, CursorError> {
        let malformed = CursorError::Malformed;
        Ok(match input.byte()? {
            1 => KeyValue::Uuid(Uuid::from_bytes(input.array()?)),
            2 => {
                let len = u32::from_be_bytes(input.array()?) as usize;
                let bytes = input.take(len)?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| malformed("a text value is not UTF-8"))?;
                if text.contains('\0') {
                    return Err(malformed(
                        "a text value holds a NUL byte, which PostgreSQL text cannot",
                    ));
                }
                KeyValue::Text(text)
            }
            3 => match input.byte()? {
                0 => KeyValue::Bool(false),
                1 => KeyValue::Bool(true),
                _ => return Err(malformed("a boolean is neither 0 nor 1")),
            },
            4 => KeyValue::SmallInt(i16::from_be_bytes(input.array()?)),
            5 => KeyValue::Integer(i32::from_be_bytes(input.array()?)),
            6 => KeyValue::BigInt(i64::from_be_bytes(input.array()?)),
            7 => {
                let len = usize::from(input.byte()?);
                let text = std::str::from_utf8(input.take(len)?)
                    .map_err(|_| malformed("a numeric value is not text"))?;
                KeyValue::Numeric(
                    text.parse()
                        .map_err(|_| malformed("a numeric value does not parse"))?,
                )
            }
            8 => {
                let micros = i64::from_be_bytes(input.array()?);
                if micros < PG_MIN_MICROS || DateTime::from_timestamp_micros(micros).is_none() {
                    return Err(malformed("a timestamp is outside PostgreSQL's range"));
                }
                KeyValue::Timestamptz(micros)
            }
            9 => {
                let days = i32::from_be_bytes(input.array()?);
                let date = NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or(malformed("a date is outside PostgreSQL's range"))?;
                if date < pg_min_date() {
                    return Err(malformed("a date is outside PostgreSQL's range"));
                }
                KeyValue::Date(days)
            }
            _ => return Err(malformed("unknown value type")),
        })
    }

    /// Whether the value can be the key of `column`: the right type, and
    /// within the column's length limit.
    fn fits(&self, column: &KeyColumn) -> std::result::Result<(), CursorError> {
        let same_type = matches!(
            (self, column.sql_type),
            (KeyValue::Uuid(_), SqlType::Uuid)
                | (KeyValue::Text(_), SqlType::Text | SqlType::Enum(_))
                | (KeyValue::Bool(_), SqlType::Boolean)
                | (KeyValue::SmallInt(_), SqlType::SmallInt)
                | (KeyValue::Integer(_), SqlType::Integer)
                | (KeyValue::BigInt(_), SqlType::BigInt)
                | (KeyValue::Numeric(_), SqlType::Numeric { .. })
                | (KeyValue::Timestamptz(_), SqlType::Timestamptz)
                | (KeyValue::Date(_), SqlType::Date)
        );
        if !same_type {
            return Err(CursorError::Malformed(
                "a sort-key value has the wrong type",
            ));
        }
        if let KeyValue::Text(text) = self {
            if column
                .max_chars
                .is_some_and(|max| text.chars().count() > max)
            {
                return Err(CursorError::Malformed(
                    "a text value is longer than its column allows",
                ));
            }
            if !column.allowed.is_empty() && !column.allowed.contains(&text.as_str()) {
                return Err(CursorError::Malformed(
                    "a text value is not one of its column's values",
                ));
            }
        }
        Ok(())
    }
}

/// The earliest date PostgreSQL's `date` holds: 4714-11-24 BC (Julian day 0).
fn pg_min_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(-4713, 11, 24).unwrap_or(NaiveDate::MIN)
}

/// A sort-key column as the codec sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyColumn {
    sql_type: SqlType,
    /// The most characters a text key can hold (`None`: unbounded, which
    /// the derive does not allow for keyset columns).
    max_chars: Option<usize>,
    /// The only values an enum key can hold; empty for any.
    allowed: &'static [&'static str],
}

impl KeyColumn {
    pub(crate) fn new(schema: &TableSchema, column: &Column) -> Self {
        let checks = || schema.checks.iter().filter(|c| c.column == column.name);
        let allowed = checks()
            .find_map(|c| match c.kind {
                CheckKind::OneOf(values) => Some(values),
                _ => None,
            })
            .unwrap_or(&[]);
        let max_chars = checks()
            .filter_map(|c| match c.kind {
                CheckKind::MaxLength(n) => Some(n as usize),
                _ => None,
            })
            .chain(allowed.iter().map(|v| v.chars().count()).max())
            .min();
        KeyColumn {
            sql_type: column.sql_type,
            max_chars,
            allowed,
        }
    }

    /// The most bytes this column's key takes in a cursor, tag included.
    fn max_encoded(&self) -> usize {
        1 + match self.sql_type {
            SqlType::Uuid => 16,
            // Without a bound (a schema written by hand), allow a generous one.
            SqlType::Text | SqlType::Enum(_) => 4 + self.max_chars.map_or(2048, |chars| chars * 4),
            SqlType::Boolean => 1,
            SqlType::SmallInt => 2,
            SqlType::Integer | SqlType::Date => 4,
            SqlType::BigInt | SqlType::Timestamptz => 8,
            SqlType::Numeric { .. } => 1 + NUMERIC_TEXT_MAX,
            _ => 0,
        }
    }
}

/// Bounds-checked reading of cursor bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], CursorError> {
        if self.0.len() < n {
            return Err(CursorError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> std::result::Result<u8, CursorError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], CursorError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// FNV-1a, 32 bits: a fingerprint that stays the same across processes,
/// builds and platforms (cursors outlive deployments).
pub(crate) fn fingerprint(parts: &[&[u8]]) -> u32 {
    crate::fnv::fnv32(parts)
}

/// A decoded cursor: where the page starts and which way it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    pub(crate) direction: Direction,
    pub(crate) keys: Vec<KeyValue>,
}

/// Encodes and decodes the cursors of one pager: its fingerprints, its key
/// columns and its signing key.
pub(crate) struct Codec<'a> {
    pub(crate) entity: u32,
    pub(crate) order: u32,
    pub(crate) filter: u32,
    pub(crate) columns: &'a [KeyColumn],
    pub(crate) key: Option<&'a [u8]>,
}

impl Codec<'_> {
    /// The longest cursor of this order, in characters.
    pub(crate) fn max_len(&self) -> usize {
        self.len_limit(self.key.is_some())
    }

    fn len_limit(&self, signed: bool) -> usize {
        let bytes = HEADER_LEN
            + self
                .columns
                .iter()
                .map(KeyColumn::max_encoded)
                .sum::<usize>()
            + if signed { TAG_LEN } else { 0 };
        bytes.div_ceil(3) * 4
    }

    fn mac(key: &[u8], data: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(data);
        mac
    }

    pub(crate) fn encode(&self, cursor: &Cursor) -> std::result::Result<String, CursorError> {
        let mut out = Vec::with_capacity(64);
        out.push(VERSION);
        let mut flags = 0;
        if cursor.direction == Direction::Backward {
            flags |= FLAG_BACKWARD;
        }
        if self.key.is_some() {
            flags |= FLAG_SIGNED;
        }
        out.push(flags);
        out.extend_from_slice(&self.entity.to_be_bytes());
        out.extend_from_slice(&self.order.to_be_bytes());
        out.extend_from_slice(&self.filter.to_be_bytes());
        out.push(cursor.keys.len() as u8);
        for key in &cursor.keys {
            key.encode(&mut out);
        }
        if let Some(key) = self.key {
            let tag = Self::mac(key, &out).finalize().into_bytes();
            out.extend_from_slice(&tag);
        }
        let text = URL_SAFE_NO_PAD.encode(&out);
        let max = self.max_len();
        if text.len() > max {
            // Values read from the database fit their columns, so only a
            // schema described by hand gets here.
            return Err(CursorError::TooLong {
                len: text.len(),
                max,
            });
        }
        Ok(text)
    }

    pub(crate) fn decode(&self, text: &str) -> std::result::Result<Cursor, CursorError> {
        // Room for a signature either way, so a cursor signed (or not)
        // against this pager's setting is named as such, not as too long.
        let max = self.len_limit(true);
        if text.len() > max {
            return Err(CursorError::TooLong {
                len: text.len(),
                max,
            });
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CursorError::NotBase64)?;
        let mut header = Reader(&bytes);
        let version = header.byte()?;
        if version != VERSION {
            return Err(CursorError::UnknownVersion(version));
        }
        let flags = header.byte()?;
        if flags & !(FLAG_BACKWARD | FLAG_SIGNED) != 0 {
            return Err(CursorError::Malformed("unknown flags"));
        }
        let body = match (flags & FLAG_SIGNED != 0, self.key) {
            (true, Some(key)) => {
                if bytes.len() < HEADER_LEN + TAG_LEN {
                    return Err(CursorError::Truncated);
                }
                let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
                Self::mac(key, body)
                    .verify_slice(tag)
                    .map_err(|_| CursorError::BadSignature)?;
                body
            }
            (false, Some(_)) => return Err(CursorError::Unsigned),
            (true, None) => return Err(CursorError::UnexpectedSignature),
            (false, None) => &bytes[..],
        };
        let mut input = Reader(body);
        input.take(2)?;
        let entity = u32::from_be_bytes(input.array()?);
        let order = u32::from_be_bytes(input.array()?);
        let filter = u32::from_be_bytes(input.array()?);
        if entity != self.entity {
            return Err(CursorError::OtherEntity);
        }
        if order != self.order {
            return Err(CursorError::OtherOrder);
        }
        if filter != self.filter {
            return Err(CursorError::OtherFilter);
        }
        let count = usize::from(input.byte()?);
        if count != self.columns.len() {
            return Err(CursorError::Malformed("wrong number of sort-key values"));
        }
        let mut keys = Vec::with_capacity(count);
        for column in self.columns {
            let key = KeyValue::decode(&mut input)?;
            key.fits(column)?;
            keys.push(key);
        }
        if !input.0.is_empty() {
            return Err(CursorError::Malformed("bytes after the last value"));
        }
        Ok(Cursor {
            direction: if flags & FLAG_BACKWARD != 0 {
                Direction::Backward
            } else {
                Direction::Forward
            },
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: KeyColumn = KeyColumn {
        sql_type: SqlType::Text,
        max_chars: Some(10),
        allowed: &[],
    };
    const TIME: KeyColumn = KeyColumn {
        sql_type: SqlType::Timestamptz,
        max_chars: None,
        allowed: &[],
    };
    const DATE: KeyColumn = KeyColumn {
        sql_type: SqlType::Date,
        max_chars: None,
        allowed: &[],
    };
    const STATUS: KeyColumn = KeyColumn {
        sql_type: SqlType::Text,
        max_chars: Some(4),
        allowed: &["todo", "done"],
    };

    fn codec<'a>(columns: &'a [KeyColumn], key: Option<&'a [u8]>) -> Codec<'a> {
        Codec {
            entity: 1,
            order: 2,
            filter: 3,
            columns,
            key,
        }
    }

    fn round_trip(columns: &[KeyColumn], keys: Vec<KeyValue>) -> [Result<(), CursorError>; 2] {
        let signing = b"secret".as_slice();
        [None, Some(signing)].map(|key| {
            let c = codec(columns, key);
            // Encoding does not validate (it only sees database values), so
            // the check under test is the decoder's.
            let text = c
                .encode(&Cursor {
                    direction: Direction::Forward,
                    keys: keys.clone(),
                })
                .or_else(|_| {
                    // Too long for the limit: encode under a larger one.
                    let loose = [KeyColumn {
                        max_chars: Some(1 << 20),
                        ..columns[0]
                    }];
                    codec(&loose, key).encode(&Cursor {
                        direction: Direction::Forward,
                        keys: keys.clone(),
                    })
                })?;
            c.decode(&text).map(|_| ())
        })
    }

    #[test]
    fn values_postgresql_would_refuse_are_malformed_signed_or_not() {
        for result in round_trip(&[TIME], vec![KeyValue::Timestamptz(PG_MIN_MICROS - 1)]) {
            assert_eq!(
                result,
                Err(CursorError::Malformed(
                    "a timestamp is outside PostgreSQL's range"
                ))
            );
        }
        for result in round_trip(&[TIME], vec![KeyValue::Timestamptz(PG_MIN_MICROS)]) {
            assert_eq!(result, Ok(()));
        }
        let too_early = pg_min_date().num_days_from_ce() - 1;
        for result in round_trip(&[DATE], vec![KeyValue::Date(too_early)]) {
            assert_eq!(
                result,
                Err(CursorError::Malformed(
                    "a date is outside PostgreSQL's range"
                ))
            );
        }
        for result in round_trip(&[TEXT], vec![KeyValue::Text("a\0b".into())]) {
            assert!(matches!(result, Err(CursorError::Malformed(m)) if m.contains("NUL")));
        }
        for result in round_trip(&[TEXT], vec![KeyValue::Text("x".repeat(11))]) {
            assert_eq!(
                result,
                Err(CursorError::Malformed(
                    "a text value is longer than its column allows"
                ))
            );
        }
        for result in round_trip(&[TEXT], vec![KeyValue::Text("ü".repeat(10))]) {
            assert_eq!(result, Ok(()));
        }
        for result in round_trip(&[STATUS], vec![KeyValue::Text("gone".into())]) {
            assert_eq!(
                result,
                Err(CursorError::Malformed(
                    "a text value is not one of its column's values"
                ))
            );
        }
    }

    #[test]
    fn the_largest_key_fits_the_limit() {
        let keys = vec![KeyValue::Text("😀".repeat(10))];
        let c = codec(&[TEXT], Some(b"k"));
        let text = c
            .encode(&Cursor {
                direction: Direction::Backward,
                keys,
            })
            .expect("fits");
        assert!(text.len() <= c.max_len());
        assert_eq!(
            c.decode(&text).map(|c| c.direction),
            Ok(Direction::Backward)
        );
    }
}
