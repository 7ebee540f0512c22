// Every supported column type, plain and optional, maps to its PostgreSQL type.
use ordinance::prelude::*;
use std::error::Error;

use ordinance::deps::tokio_postgres::types::private::BytesMut;
use ordinance::deps::tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use ordinance::{ColumnType, Entity, Json, SqlType};

#[derive(DbEnum, Clone, Copy, Debug, PartialEq)]
pub enum Mood {
    Happy,
    Sad,
}

/// A type of the application's own, opted in as TEXT: it says which column
/// type it is, and how it travels to and from PostgreSQL.
#[derive(Debug)]
pub struct Email(pub String);

impl ColumnType for Email {
    const SQL_TYPE: SqlType = SqlType::Text;
}

impl ToSql for Email {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Email {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        String::from_sql(ty, raw).map(Email)
    }
    fn accepts(ty: &Type) -> bool {
        <String as FromSql>::accepts(ty)
    }
}

#[derive(Entity)]
pub struct Sample {
    pub id: Uuid,
    pub other_uuid: Option<Uuid>,
    pub text: String,
    pub maybe_text: Option<String>,
    pub is_flag: bool,
    pub has_maybe_flag: Option<bool>,
    pub small: i16,
    pub medium: i32,
    pub big: i64,
    pub maybe_big: Option<i64>,
    pub amount: Decimal,
    #[column(precision = 10, scale = 4)]
    pub rate: Decimal,
    #[column(precision = 6)]
    pub whole: Option<Decimal>,
    pub happened_at: DateTime<Utc>,
    pub day: NaiveDate,
    pub maybe_day: Option<NaiveDate>,
    pub document: serde_json::Value,
    pub maybe_document: Option<serde_json::Value>,
    pub typed_document: Json<Vec<String>>,
    pub labels: Vec<String>,
    pub blob: Vec<u8>,
    pub mood: Mood,
    pub maybe_mood: Option<Mood>,
    pub email: Email,
    #[column(exempt(float = "sensor readings, not money"))]
    pub reading: f64,
    #[column(exempt(float = "sensor readings, not money"))]
    pub rough: Option<f32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {
    let expected = [
        ("id", "UUID", false),
        ("other_uuid", "UUID", true),
        ("text", "TEXT", false),
        ("maybe_text", "TEXT", true),
        ("is_flag", "BOOLEAN", false),
        ("has_maybe_flag", "BOOLEAN", true),
        ("small", "SMALLINT", false),
        ("medium", "INTEGER", false),
        ("big", "BIGINT", false),
        ("maybe_big", "BIGINT", true),
        ("amount", "NUMERIC", false),
        ("rate", "NUMERIC(10,4)", false),
        ("whole", "NUMERIC(6)", true),
        ("happened_at", "TIMESTAMPTZ", false),
        ("day", "DATE", false),
        ("maybe_day", "DATE", true),
        ("document", "JSONB", false),
        ("maybe_document", "JSONB", true),
        ("typed_document", "JSONB", false),
        ("labels", "TEXT[]", false),
        ("blob", "BYTEA", false),
        ("mood", "TEXT", false),
        ("maybe_mood", "TEXT", true),
        ("email", "TEXT", false),
        ("reading", "DOUBLE PRECISION", false),
        ("rough", "REAL", true),
        ("created_at", "TIMESTAMPTZ", false),
        ("updated_at", "TIMESTAMPTZ", false),
        ("deleted_at", "TIMESTAMPTZ", true),
        ("version", "INTEGER", false),
    ];
    let columns = Sample::SCHEMA.columns;
    assert_eq!(columns.len(), expected.len());
    for (c, (name, ty, nullable)) in columns.iter().zip(expected) {
        assert_eq!((c.name, &*c.sql_type.sql(), c.nullable), (name, ty, nullable));
    }
    // Enum columns get their CHECK, arrays of `Vec<T>` one against NULL
    // elements; other types none.
    let rendered: Vec<_> = Sample::SCHEMA
        .checks
        .iter()
        .filter(|c| c.is_rendered())
        .map(|c| c.name)
        .collect();
    assert_eq!(
        rendered,
        [
            "samples_labels_no_nulls",
            "samples_mood_valid",
            "samples_maybe_mood_valid",
            "samples_version_min"
        ]
    );
    // Non-null JSON defaults to an empty object; nullable JSON has no default.
    let ddl = ordinance::ddl::create_table(Sample::SCHEMA);
    assert!(ddl.contains("\"document\" JSONB NOT NULL DEFAULT '{}'::jsonb,"));
    assert!(ddl.contains("\"maybe_document\" JSONB,"));
    assert!(ddl.contains("CHECK (\"mood\" IN ('happy', 'sad'))"));
}
