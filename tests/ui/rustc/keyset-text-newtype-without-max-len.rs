// A type of one's own stored as TEXT is a bounded sort key only with
// max_len; the check runs at compile time, since only the type knows it is
// TEXT (an enum deriving DbEnum passes: its values are its bound).
use ordinance::prelude::*;
use std::error::Error;

use ordinance::deps::tokio_postgres::types::private::BytesMut;
use ordinance::deps::tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use ordinance::{ColumnType, SqlType};

#[derive(Debug)]
pub struct Slug(pub String);

impl ColumnType for Slug {
    const SQL_TYPE: SqlType = SqlType::Text;
}

impl ToSql for Slug {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Slug {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        String::from_sql(ty, raw).map(Slug)
    }
    fn accepts(ty: &Type) -> bool {
        <String as FromSql>::accepts(ty)
    }
}

#[derive(DbEnum, Clone, Copy, Debug)]
pub enum Stage {
    Draft,
    Live,
}

#[derive(Entity)]
#[entity(keyset(slug asc), keyset(stage asc))]
pub struct Page {
    pub id: Uuid,
    pub slug: Slug,
    pub stage: Stage,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}
