//! The rendered DDL of the fixture schema, applied to a real PostgreSQL and
//! read back from the catalog.

use std::collections::{BTreeMap, BTreeSet};

use ordinance::ddl::SchemaDdl;
use ordinance::exec::Connection;
use ordinance::schema::{CheckKind, TableSchema};
use ordinance::testing::TestDatabase;
use ordinance::{ColumnDefault, SqlType};
use ordinance_tests::all_schemas;
use tokio_postgres::Client;

/// The catalog's `udt_name` for each type, written out independently of the renderer.
fn udt_name(t: SqlType) -> &'static str {
    match t {
        SqlType::Uuid => "uuid",
        SqlType::Text => "text",
        SqlType::Boolean => "bool",
        SqlType::SmallInt => "int2",
        SqlType::Integer => "int4",
        SqlType::BigInt => "int8",
        SqlType::Numeric { .. } => "numeric",
        SqlType::Real => "float4",
        SqlType::DoublePrecision => "float8",
        SqlType::Timestamptz => "timestamptz",
        SqlType::Date => "date",
        SqlType::Jsonb => "jsonb",
        SqlType::Array(SqlType::Text) => "_text",
        SqlType::Array(SqlType::Integer) => "_int4",
        SqlType::Bytea => "bytea",
        other => panic!("no catalog name written for {other:?}"),
    }
}

/// The catalog's rendering of each default.
fn catalog_default(d: ColumnDefault) -> &'static str {
    match d {
        ColumnDefault::RandomUuid => "gen_random_uuid()",
        ColumnDefault::Now => "now()",
        ColumnDefault::Integer(1) => "1",
        ColumnDefault::EmptyJsonObject => "'{}'::jsonb",
        ColumnDefault::EmptyArray => "'{}'::text[]",
        other => panic!("no catalog default written for {other:?}"),
    }
}

async fn applied() -> (TestDatabase, Connection, SchemaDdl) {
    let ddl = SchemaDdl::new(&all_schemas()).expect("fixture schema orders");
    let db = TestDatabase::create().await.expect("test database");
    let client = db.connect().await.expect("connect");
    client
        .batch_execute(&ddl.up())
        .await
        .expect("up DDL applies");
    (db, client, ddl)
}

async fn assert_columns_match(client: &Client, t: &TableSchema) {
    let rows = client
        .query(
            "SELECT column_name::text, udt_name::text, is_nullable::text, column_default::text,
                    numeric_precision, numeric_scale
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1
             ORDER BY ordinal_position",
            &[&t.name],
        )
        .await
        .expect("columns query");
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let expected: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, expected, "columns of {}", t.name);
    for (row, c) in rows.iter().zip(t.columns) {
        let udt: String = row.get(1);
        let nullable: String = row.get(2);
        let default: Option<String> = row.get(3);
        assert_eq!(udt, udt_name(c.sql_type), "{}.{} type", t.name, c.name);
        assert_eq!(
            nullable == "YES",
            c.nullable,
            "{}.{} nullability",
            t.name,
            c.name
        );
        assert_eq!(
            default.as_deref(),
            c.default.map(catalog_default),
            "{}.{} default",
            t.name,
            c.name
        );
        if let SqlType::Numeric {
            precision: Some(p),
            scale,
        } = c.sql_type
        {
            let (cp, cs): (Option<i32>, Option<i32>) = (row.get(4), row.get(5));
            assert_eq!(cp, Some(i32::from(p)));
            assert_eq!(cs, scale.map(i32::from));
        }
    }
}

/// (name -> (contype, definition)) of a table's constraints.
async fn constraints(client: &Client, table: &str) -> BTreeMap<String, (String, String)> {
    client
        .query(
            "SELECT conname::text, contype::text, pg_get_constraintdef(oid)
             FROM pg_constraint WHERE conrelid = $1::text::regclass",
            &[&table],
        )
        .await
        .expect("constraints query")
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

/// (name -> definition) of a table's indexes.
async fn indexes(client: &Client, table: &str) -> BTreeMap<String, String> {
    client
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes
             WHERE schemaname = 'public' AND tablename = $1",
            &[&table],
        )
        .await
        .expect("indexes query")
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn every_table_column_constraint_and_index_matches_the_schema() {
    let (_db, client, ddl) = applied().await;
    for t in ddl.tables() {
        assert_columns_match(&client, t).await;

        let cons = constraints(&client, t.name).await;
        let mut expected: BTreeMap<String, String> = BTreeMap::new();
        expected.insert(t.primary_key.into(), "p".into());
        for fk in t.foreign_keys {
            expected.insert(fk.name.into(), "f".into());
        }
        for c in t.checks.iter().filter(|c| c.is_rendered()) {
            expected.insert(c.name.into(), "c".into());
        }
        let actual: BTreeMap<String, String> = cons
            .iter()
            .map(|(n, (kind, _))| (n.clone(), kind.clone()))
            .collect();
        assert_eq!(actual, expected, "constraints of {}", t.name);
        for fk in t.foreign_keys {
            let def = &cons[fk.name].1;
            let want = format!(
                "FOREIGN KEY ({}) REFERENCES {}(id) ON DELETE {}",
                fk.column,
                fk.references,
                fk.on_delete.sql()
            );
            assert_eq!(def, &want, "{}", fk.name);
        }

        let idx = indexes(&client, t.name).await;
        let names: BTreeSet<&str> = idx.keys().map(String::as_str).collect();
        let mut want: BTreeSet<&str> = t.indexes.iter().map(|i| i.name).collect();
        want.insert(t.primary_key);
        assert_eq!(names, want, "indexes of {}", t.name);
        for i in t.indexes {
            let def = &idx[i.name];
            assert_eq!(def.starts_with("CREATE UNIQUE INDEX"), i.unique, "{def}");
            assert_eq!(
                def.ends_with("WHERE (deleted_at IS NULL)"),
                i.live_only,
                "{def}"
            );
        }
    }
}

#[tokio::test]
async fn catalog_holds_the_exact_definitions_the_conventions_promise() {
    let (_db, client, _ddl) = applied().await;

    let users = indexes(&client, "users").await;
    assert_eq!(
        users["idx_users_email_unique"],
        "CREATE UNIQUE INDEX idx_users_email_unique ON public.users USING btree (email) WHERE (deleted_at IS NULL)"
    );
    assert_eq!(
        users["idx_users_created_at_id"],
        "CREATE INDEX idx_users_created_at_id ON public.users USING btree (created_at DESC, id DESC) WHERE (deleted_at IS NULL)"
    );
    // Foreign-key indexes are whole: deleting a referenced row must find every referencing row.
    assert_eq!(
        users["idx_users_organization_id"],
        "CREATE INDEX idx_users_organization_id ON public.users USING btree (organization_id)"
    );
    assert_eq!(
        users["users_pkey"],
        "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)"
    );

    let tasks = indexes(&client, "tasks").await;
    assert_eq!(
        tasks["idx_tasks_status_created_at_id"],
        "CREATE INDEX idx_tasks_status_created_at_id ON public.tasks USING btree (status, created_at DESC, id DESC) WHERE (deleted_at IS NULL)"
    );
    assert_eq!(
        tasks["idx_tasks_organization_id_due_on"],
        "CREATE INDEX idx_tasks_organization_id_due_on ON public.tasks USING btree (organization_id, due_on) WHERE (deleted_at IS NULL)"
    );
    let groups = indexes(&client, "groups").await;
    assert_eq!(
        groups["idx_groups_organization_id_name_unique"],
        "CREATE UNIQUE INDEX idx_groups_organization_id_name_unique ON public.groups USING btree (organization_id, name) WHERE (deleted_at IS NULL)"
    );
    let links = indexes(&client, "task_groups").await;
    assert!(links.contains_key("idx_task_groups_pair_unique"));
    let audit = indexes(&client, "audit_events").await;
    assert_eq!(
        audit["idx_audit_events_action_created_at"],
        "CREATE INDEX idx_audit_events_action_created_at ON public.audit_events USING btree (action, created_at DESC)"
    );

    let cons = constraints(&client, "tasks").await;
    assert_eq!(
        cons["tasks_status_valid"].1,
        "CHECK ((status = ANY (ARRAY['todo'::text, 'in_progress'::text, 'done'::text])))"
    );
    assert_eq!(cons["tasks_order_min"].1, "CHECK ((\"order\" >= 0))");
    assert_eq!(cons["tasks_priority_max"].1, "CHECK ((priority <= 5))");
    assert_eq!(
        cons["tasks_title_min_length"].1,
        "CHECK ((char_length(title) >= 1))"
    );
    assert_eq!(cons["tasks_version_min"].1, "CHECK ((version >= 1))");
    assert_eq!(
        cons["tasks_assignee_id_fkey"].1,
        "FOREIGN KEY (assignee_id) REFERENCES users(id) ON DELETE SET NULL"
    );
    assert_eq!(
        cons["tasks_parent_id_fkey"].1,
        "FOREIGN KEY (parent_id) REFERENCES tasks(id) ON DELETE RESTRICT"
    );
    let cons = constraints(&client, "users").await;
    assert_eq!(
        cons["users_role_valid"].1,
        "CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'member'::text])))"
    );
    assert_eq!(
        cons["users_email_max_length"].1,
        "CHECK ((char_length(email) <= 320))"
    );

    let amount: String = client
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'invoices'::regclass AND attname = 'amount'",
            &[],
        )
        .await
        .expect("amount type")
        .get(0);
    assert_eq!(amount, "numeric(12,2)");

    let audit_columns: Vec<String> = client
        .query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'audit_events'",
            &[],
        )
        .await
        .expect("audit columns")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!audit_columns
        .iter()
        .any(|c| c == "deleted_at" || c == "version"));
}

#[tokio::test]
async fn doc_comments_and_waivers_become_catalog_comments() {
    let (_db, client, _ddl) = applied().await;
    let table_comment = |table: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT obj_description($1::text::regclass, 'pg_class')",
                    &[&table],
                )
                .await
                .expect("table comment")
                .get::<_, Option<String>>(0)
        }
    };
    assert_eq!(
        table_comment("users").await.as_deref(),
        Some("People who can sign in.")
    );
    assert_eq!(
        table_comment("audit_events").await.as_deref(),
        Some(
            "Who did what, when. Append-only.\n\
             Convention waived: soft_delete (append-only ledger: rows are never removed)\n\
             Convention waived: version (rows are never updated)"
        )
    );
    let column_comment = |table: &'static str, column: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT col_description($1::text::regclass, attnum) FROM pg_attribute
                     WHERE attrelid = $1::text::regclass AND attname = $2",
                    &[&table, &column],
                )
                .await
                .expect("column comment")
                .get::<_, Option<String>>(0)
        }
    };
    assert_eq!(
        column_comment("tasks", "order").await.as_deref(),
        Some("Position in the board column; `order` is a reserved word.")
    );
    assert_eq!(
        column_comment("invoices", "billing_account_id")
            .await
            .as_deref(),
        Some(
            "Reference in the external billing system.\n\
             Convention waived: foreign_key (lives in the billing provider, not in this database)"
        )
    );
    assert_eq!(column_comment("users", "email").await, None);
}

#[tokio::test]
async fn constraints_and_defaults_behave_on_real_rows() {
    let (_db, client, _ddl) = applied().await;
    // Defaults fill the audit columns.
    let row = client
        .query_one(
            "INSERT INTO organizations (name) VALUES ($1)
             RETURNING id, version, created_at = now(), updated_at = now(), deleted_at IS NULL, settings::text",
            &[&"Acme"],
        )
        .await
        .expect("insert with defaults");
    let org: uuid::Uuid = row.get(0);
    assert_eq!(row.get::<_, i32>(1), 1);
    assert!(row.get::<_, bool>(2) && row.get::<_, bool>(3) && row.get::<_, bool>(4));
    assert_eq!(row.get::<_, String>(5), "{}");

    // The unique index covers live rows only.
    let dup = client
        .execute("INSERT INTO organizations (name) VALUES ($1)", &[&"Acme"])
        .await
        .expect_err("duplicate live name");
    let db_err = dup.as_db_error().expect("database error");
    assert_eq!(db_err.constraint(), Some("idx_organizations_name_unique"));
    client
        .execute(
            "UPDATE organizations SET deleted_at = now() WHERE id = $1",
            &[&org],
        )
        .await
        .expect("soft delete");
    client
        .execute("INSERT INTO organizations (name) VALUES ($1)", &[&"Acme"])
        .await
        .expect("a soft-deleted row does not block its name");

    // Enum and range checks reject bad values, naming the constraint.
    let live: uuid::Uuid = client
        .query_one("SELECT id FROM organizations WHERE deleted_at IS NULL", &[])
        .await
        .expect("live org")
        .get(0);
    let bad_status = client
        .execute(
            "INSERT INTO tasks (organization_id, title, status, \"order\", priority)
             VALUES ($1, 'x', 'archived', 0, 3)",
            &[&live],
        )
        .await
        .expect_err("unknown status");
    assert_eq!(
        bad_status.as_db_error().and_then(|e| e.constraint()),
        Some("tasks_status_valid")
    );
    let bad_priority = client
        .execute(
            "INSERT INTO tasks (organization_id, title, status, \"order\", priority)
             VALUES ($1, 'x', 'todo', 0, 9)",
            &[&live],
        )
        .await
        .expect_err("priority above max");
    assert_eq!(
        bad_priority.as_db_error().and_then(|e| e.constraint()),
        Some("tasks_priority_max")
    );
    let bad_version = client
        .execute(
            "UPDATE organizations SET version = 0 WHERE id = $1",
            &[&live],
        )
        .await
        .expect_err("version below 1");
    assert_eq!(
        bad_version.as_db_error().and_then(|e| e.constraint()),
        Some("organizations_version_min")
    );
    client
        .execute(
            "INSERT INTO tasks (organization_id, title, status, \"order\", priority)
             VALUES ($1, 'ok', 'in_progress', 0, 5)",
            &[&live],
        )
        .await
        .expect("a valid task inserts");
    let labels: Vec<String> = client
        .query_one("SELECT labels FROM tasks", &[])
        .await
        .expect("labels")
        .get(0);
    assert!(labels.is_empty(), "TEXT[] defaults to an empty array");
}

#[tokio::test]
async fn down_ddl_leaves_the_database_empty() {
    let (_db, client, ddl) = applied().await;
    let count = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public'";
    let before: i64 = client.query_one(count, &[]).await.expect("count").get(0);
    assert!(
        before > 20,
        "the up DDL created the tables and indexes ({before})"
    );
    client
        .batch_execute(&ddl.down())
        .await
        .expect("down DDL applies");
    let after: i64 = client.query_one(count, &[]).await.expect("count").get(0);
    assert_eq!(after, 0, "tables, indexes and sequences are all gone");
    // And the up DDL applies again on the emptied database.
    client
        .batch_execute(&ddl.up())
        .await
        .expect("up DDL applies again");
}

#[test]
fn tables_render_referenced_first() {
    let ddl = SchemaDdl::new(&all_schemas()).expect("orders");
    let order: Vec<&str> = ddl.tables().iter().map(|t| t.name).collect();
    let pos = |name: &str| order.iter().position(|t| *t == name).expect(name);
    for t in ddl.tables() {
        for (_, r) in t.references() {
            assert!(pos(r) < pos(t.name), "{r} must come before {}", t.name);
        }
    }
    assert_eq!(order.len(), 7);
    // Any check kind count sanity: every fixture table has the version check but audit_events.
    for t in ddl.tables() {
        let has_version_check = t
            .checks
            .iter()
            .any(|c| c.column == "version" && c.kind == CheckKind::Min(1));
        assert_eq!(has_version_check, t.name != "audit_events", "{}", t.name);
    }
}
