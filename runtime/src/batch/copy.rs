//! Rows encoded straight into binary `COPY`: one buffer, no allocation per
//! row, each value encoded by its own `ToSql` at its column's type.

use std::pin::pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt as _;
use tokio_postgres::types::IsNull;
use tokio_postgres::{Client, CopyInSink};
use uuid::Uuid;

use crate::entity::{Entity, NewEntity};
use crate::error::{Error, Result};
use crate::params::Params;

/// Encoded rows are sent to the server in messages of about this size.
const SEND_AT: usize = 64 * 1024;

/// Runs `copy` (a binary `COPY … (insert columns) FROM STDIN` of `N`'s
/// table, or of its staging table) with `rows` and their `ids`. Every row
/// is checked against its columns before the copy starts: a refused value
/// leaves nothing half-sent. Returns the number of rows written.
pub(super) async fn copy_rows<N: NewEntity>(
    client: &Client,
    copy: &str,
    rows: &[N],
    ids: impl Iterator<Item = Uuid>,
) -> Result<u64> {
    let schema = N::Entity::SCHEMA;
    let db = |e: tokio_postgres::Error| Error::from_db(e, schema);
    crate::checks::check_rows(rows)?;
    let statements = N::Entity::statements();
    let sink: CopyInSink<Bytes> = client.copy_in(copy).await.map_err(db)?;
    let mut sink = pin!(sink);
    let types = &statements.insert_types;
    let fields = i16::try_from(types.len())
        .map_err(|_| Error::UnsupportedValue("too many columns for COPY".into()))?;
    let mut buf = BytesMut::with_capacity(SEND_AT + 4096);
    // Signature, flags, header extension length.
    buf.put_slice(b"PGCOPY\n\xff\r\n\0");
    buf.put_i32(0);
    buf.put_i32(0);
    // Reused for every row: nothing allocated per row.
    let mut params = Params::new();
    for (row, id) in rows.iter().zip(ids) {
        buf.put_i16(fields);
        // The id is 16 bytes on the wire, written directly.
        buf.put_i32(16);
        buf.put_slice(id.as_bytes());
        params.clear();
        row.bind_business(&mut params);
        for (position, (value, ty)) in params.iter().zip(&types[1..]).enumerate() {
            let at = buf.len();
            buf.put_i32(0);
            let size = match value.to_sql_checked(ty, &mut buf) {
                Ok(IsNull::Yes) => Ok(-1),
                Ok(IsNull::No) => i32::try_from(buf.len() - at - 4)
                    .map_err(|_| "the value is larger than PostgreSQL accepts".to_owned()),
                Err(e) => Err(e.to_string()),
            }
            .map_err(|reason| {
                let column = schema
                    .business_columns()
                    .nth(position)
                    .map_or("?", |c| c.name);
                Error::UnsupportedValue(format!(
                    "column \"{column}\" of \"{}\": {reason}",
                    schema.name
                ))
            })?;
            buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
        }
        if buf.len() >= SEND_AT {
            sink.send(buf.split().freeze()).await.map_err(db)?;
        }
    }
    buf.put_i16(-1);
    sink.send(buf.split().freeze()).await.map_err(db)?;
    sink.as_mut().finish().await.map_err(db)
}
