//! The fixed SQL text of an entity's hot statements, rendered once per
//! entity from its static schema: what every write and read by id sends,
//! and the pieces (column lists, stamps) the builders share.

use tokio_postgres::types::Type;

use super::lock::RowLock;
use super::stage::StagedInsert;
use super::upsert::UpsertStatements;
use crate::ddl::quote_ident;
use crate::schema::TableSchema;

/// The fixed SQL text of an entity's hot statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statements {
    /// Every column, in field order, as a select list.
    pub columns: String,
    /// `INSERT (id, business columns...) ... RETURNING *columns*`; `$1` is the id.
    pub insert: String,
    /// `COPY ... (insert columns) FROM STDIN (FORMAT binary)`: batches.
    pub copy_in: String,
    /// Every row whose id lies between `$1` and `$2`, deleted or not: how a
    /// batch reads its new rows back.
    pub id_range: String,
    /// A batch insert through a staging table: `COPY` into a temporary
    /// table, then one `INSERT … SELECT` (tables under row-level security,
    /// and batches returning their rows).
    pub staged: StagedInsert,
    /// `SELECT ... WHERE id = $1` on live rows.
    pub get: String,
    /// `get` with each row lock, in [`RowLock`]'s order.
    pub get_locked: Vec<String>,
    /// The upsert on each index of the schema, in its order: `None` for
    /// indexes that are not unique.
    pub upserts: Vec<Option<UpsertStatements>>,
    /// `UPDATE` of the business columns; `$1` id, `$2` expected version
    /// (absent without `version`), then the business columns.
    pub update: String,
    /// Soft delete (`deleted_at = now()`), version-checked like `update`.
    /// `None` for entities that do not soft-delete.
    pub soft_delete: Option<String>,
    /// Undo of a soft delete, version-checked. `None` without soft delete.
    pub restore: Option<String>,
    /// `DELETE ... WHERE id = $1 RETURNING id`: removes the row for good.
    pub purge: String,
    /// After a guarded write matched nothing: the row's version and whether
    /// it is soft-deleted, to tell "gone" from "stale".
    pub probe: String,
    /// `SELECT count(*)` of live rows.
    pub count: String,
    /// Parameter types of `insert`: the id, then the business columns.
    pub insert_types: Vec<Type>,
    /// Parameter types of `update`: the id, the version when versioned, then
    /// the business columns.
    pub update_types: Vec<Type>,
    /// Parameter types of `soft_delete` and `restore`: the id, and the
    /// version when versioned.
    pub guard_types: Vec<Type>,
    /// The column each parameter of `insert` is for, `$1` first: how a
    /// value the server refuses is reported with its column.
    pub insert_parameters: Vec<&'static str>,
    /// The column each parameter of `update` is for, `$1` first.
    pub update_parameters: Vec<&'static str>,
}

/// The most bind parameters one PostgreSQL statement can carry. Batch
/// inserts ([`crate::batch`]) bind one parameter per column, whatever the
/// number of rows.
pub const MAX_PARAMETERS: usize = 65_535;

/// Parameter types of `get`, `purge` and `probe`: the id.
pub const ID_TYPES: &[Type] = &[Type::UUID];

impl Statements {
    /// Every fixed statement with the operation that runs it (`get`,
    /// `insert`, `update`, `soft_delete`, `restore`, `purge`, `probe`,
    /// `count`, `copy_in`, `id_range`, `stage`, `insert_many`, `get_locked`,
    /// `upsert`): how a statement seen elsewhere (`pg_stat_statements`) is
    /// named.
    pub fn by_operation(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("get", self.get.as_str()),
            ("insert", &self.insert),
            ("update", &self.update),
            ("purge", &self.purge),
            ("probe", &self.probe),
            ("count", &self.count),
            ("copy_in", &self.copy_in),
            ("id_range", &self.id_range),
            ("stage", &self.staged.create),
            ("copy_in", &self.staged.copy_in),
            ("insert_many", &self.staged.insert),
            ("insert_many", &self.staged.insert_count),
        ];
        out.extend(self.soft_delete.iter().map(|s| ("soft_delete", s.as_str())));
        out.extend(self.restore.iter().map(|s| ("restore", s.as_str())));
        out.extend(self.get_locked.iter().map(|s| ("get_locked", s.as_str())));
        for upsert in self.upserts.iter().flatten() {
            out.push(("upsert", &upsert.sql));
            out.extend(upsert.guarded.iter().map(|s| ("upsert", s.as_str())));
            out.push(("probe", &upsert.probe));
        }
        out
    }

    /// The statements an entity runs: [`new`](Self::new)'s, each with the
    /// comment naming its entity and operation when
    /// [`comment_statements`](crate::telemetry::comment_statements) is on.
    pub fn for_entity(schema: &'static TableSchema) -> Self {
        let mut s = Statements::new(schema);
        if !crate::telemetry::comments_on() {
            return s;
        }
        let c = |operation: &str, text: &mut String| {
            crate::telemetry::commented(schema, operation, text)
        };
        c("get", &mut s.get);
        c("insert", &mut s.insert);
        c("update", &mut s.update);
        c("purge", &mut s.purge);
        c("probe", &mut s.probe);
        c("count", &mut s.count);
        c("copy_in", &mut s.copy_in);
        c("id_range", &mut s.id_range);
        c("stage", &mut s.staged.create);
        c("copy_in", &mut s.staged.copy_in);
        c("insert_many", &mut s.staged.insert);
        c("insert_many", &mut s.staged.insert_count);
        s.soft_delete.iter_mut().for_each(|t| c("soft_delete", t));
        s.restore.iter_mut().for_each(|t| c("restore", t));
        s.get_locked.iter_mut().for_each(|t| c("get_locked", t));
        for upsert in s.upserts.iter_mut().flatten() {
            c("upsert", &mut upsert.sql);
            upsert.guarded.iter_mut().for_each(|t| c("upsert", t));
            c("probe", &mut upsert.probe);
        }
        s
    }

    /// Renders the statements of one table.
    pub fn new(schema: &'static TableSchema) -> Self {
        let t = crate::ddl::table_ident(schema);
        let columns = column_list(schema);
        let live = if schema.soft_deletes() {
            " AND \"deleted_at\" IS NULL"
        } else {
            ""
        };
        let versioned = schema.versioned();
        // $1 is the id, $2 the expected version when versioned.
        let first_value = if versioned { 3 } else { 2 };
        let version_check = if versioned {
            " AND \"version\" = $2"
        } else {
            ""
        };
        let bump = if versioned {
            ", \"version\" = \"version\" + 1"
        } else {
            ""
        };

        let insert_cols: Vec<String> = schema
            .insert_columns()
            .map(|c| quote_ident(c.name))
            .collect();
        let placeholders: Vec<String> = schema
            .insert_columns()
            .enumerate()
            .map(|(i, c)| c.sql_type.param(i + 1))
            .collect();
        let insert_columns = insert_cols.join(", ");
        let insert = format!(
            "INSERT INTO {t} ({insert_columns}) {} RETURNING {columns}",
            insert_source(schema, &placeholders)
        );
        let sets: Vec<String> = schema
            .business_columns()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "{} = {}",
                    quote_ident(c.name),
                    c.sql_type.param(i + first_value)
                )
            })
            .collect();
        let stamped = stamp_list(schema);
        let mut set_list = sets.join(", ");
        if !set_list.is_empty() {
            set_list.push_str(", ");
        }
        let update = format!(
            "UPDATE {t} SET {set_list}{stamped}{bump} WHERE \"id\" = $1{version_check}{live} RETURNING {columns}"
        );
        let (soft_delete, restore) = if schema.soft_deletes() {
            (
                Some(format!(
                    "UPDATE {t} SET {}, {stamped}{bump} \
                     WHERE \"id\" = $1{version_check} AND \"deleted_at\" IS NULL RETURNING {columns}",
                    deletion_list(schema, true)
                )),
                Some(format!(
                    "UPDATE {t} SET {}, {stamped}{bump} \
                     WHERE \"id\" = $1{version_check} AND \"deleted_at\" IS NOT NULL RETURNING {columns}",
                    deletion_list(schema, false)
                )),
            )
        } else {
            (None, None)
        };
        let probe = format!(
            "SELECT {}, {} FROM {t} WHERE \"id\" = $1",
            if versioned { "\"version\"" } else { "0" },
            if schema.soft_deletes() {
                "\"deleted_at\" IS NOT NULL"
            } else {
                "false"
            }
        );
        let business_types: Vec<Type> = schema
            .business_columns()
            .map(|c| c.sql_type.wire_type())
            .collect();
        let mut guard_types = vec![Type::UUID];
        if versioned {
            guard_types.push(Type::INT4);
        }
        let insert_types: Vec<Type> = schema
            .insert_columns()
            .map(|c| c.sql_type.wire_type())
            .collect();
        let mut update_types = guard_types.clone();
        update_types.extend(business_types);
        let mut update_parameters = vec!["id"];
        if versioned {
            update_parameters.push("version");
        }
        update_parameters.extend(schema.business_columns().map(|c| c.name));
        Statements {
            insert_parameters: schema.insert_columns().map(|c| c.name).collect(),
            update_parameters,
            insert_types,
            copy_in: format!("COPY {t} ({insert_columns}) FROM STDIN (FORMAT binary)"),
            id_range: format!("SELECT {columns} FROM {t} WHERE \"id\" BETWEEN $1 AND $2"),
            staged: StagedInsert::new(schema),
            update_types,
            guard_types,
            get: format!("SELECT {columns} FROM {t} WHERE \"id\" = $1{live}"),
            upserts: schema
                .indexes
                .iter()
                .map(|ix| {
                    ix.unique
                        .then(|| UpsertStatements::new(schema, ix))
                        .flatten()
                })
                .collect(),
            get_locked: RowLock::all()
                .map(|lock| {
                    format!(
                        "SELECT {columns} FROM {t} WHERE \"id\" = $1{live}{}",
                        lock.sql()
                    )
                })
                .collect(),
            purge: format!("DELETE FROM {t} WHERE \"id\" = $1 RETURNING \"id\""),
            count: format!(
                "SELECT count(*) FROM {t}{}",
                if schema.soft_deletes() {
                    " WHERE \"deleted_at\" IS NULL"
                } else {
                    ""
                }
            ),
            columns,
            insert,
            update,
            soft_delete,
            restore,
            probe,
        }
    }
}

/// Every column, in field order, quoted and comma-separated: a select or
/// `RETURNING` list.
pub(crate) fn column_list(schema: &'static TableSchema) -> String {
    schema
        .columns
        .iter()
        .map(|c| quote_ident(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What every write of a row sets besides the caller's columns:
/// `updated_at` from the database clock and, when the table records it,
/// `updated_by` from the transaction's actor setting.
pub(crate) fn stamps(schema: &'static TableSchema) -> impl Iterator<Item = (&'static str, String)> {
    let actor = schema.column("updated_by").map(|_| {
        (
            "updated_by",
            crate::schema::setting_uuid(crate::schema::ACTOR_SETTING),
        )
    });
    std::iter::once(("updated_at", "now()".to_owned())).chain(actor)
}

/// What marking a row deleted (`delete`) or restoring it sets:
/// `deleted_at` from the database clock (or NULL) and, when the table
/// records it, `deleted_by` from the transaction's actor (or NULL). The one
/// list every soft-delete path writes: the repository, the builders, bulk
/// changes.
pub(crate) fn deletion_marks(
    schema: &'static TableSchema,
    delete: bool,
) -> impl Iterator<Item = (&'static str, String)> {
    let at = if delete { "now()" } else { "NULL" };
    let by = schema.column("deleted_by").map(move |_| {
        let actor = if delete {
            crate::schema::setting_uuid(crate::schema::ACTOR_SETTING)
        } else {
            "NULL".to_owned()
        };
        ("deleted_by", actor)
    });
    std::iter::once(("deleted_at", at.to_owned())).chain(by)
}

/// [`deletion_marks`] as a `SET` list.
fn deletion_list(schema: &'static TableSchema, delete: bool) -> String {
    set_list(deletion_marks(schema, delete))
}

/// `(column, SQL)` pairs as a `SET` list: `"updated_at" = now(), ...`.
fn set_list(sets: impl Iterator<Item = (&'static str, String)>) -> String {
    sets.map(|(column, value)| format!("{} = {value}", quote_ident(column)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows an `INSERT` of one row takes: `VALUES ($1, $2)`, or, into a
/// tenant table, `SELECT $1, $2 WHERE <tenant set>` — with no tenant set it
/// inserts nothing (which the kit reports as
/// [`Error::TenantNotSet`](crate::Error::TenantNotSet)) rather than fail on
/// the row-level security policy.
pub(crate) fn insert_source(schema: &'static TableSchema, placeholders: &[String]) -> String {
    let values = placeholders.join(", ");
    if schema.tenant {
        format!("SELECT {values} WHERE {}", crate::schema::tenant_is_set())
    } else {
        format!("VALUES ({values})")
    }
}

/// [`stamps`] as a `SET` list: `"updated_at" = now(), ...`.
pub(crate) fn stamp_list(schema: &'static TableSchema) -> String {
    set_list(stamps(schema))
}
