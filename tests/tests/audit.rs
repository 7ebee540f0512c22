//! The audit of a live database against the rule book: a deliberately
//! messy schema gives exactly the findings it was built to give, each with
//! a fix that PostgreSQL accepts; the kit's own schema gives none.

use ordinance::audit::{audit, render, AuditOptions, Rule};
use ordinance::ddl::SchemaDdl;
use ordinance::testing::TestDatabase;

const MESSY: &str = r#"
CREATE TABLE "Customer" (
    "customerName" varchar(100),
    active boolean,
    balance double precision,
    signed_up timestamp
);
CREATE TABLE order_item (
    id serial PRIMARY KEY,
    product_id uuid,
    payload json,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE TABLE accounts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);
CREATE INDEX idx_accounts_created_at ON accounts (created_at);
CREATE TABLE tbl_invoices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id uuid NOT NULL REFERENCES accounts (id),
    owner uuid REFERENCES accounts (id),
    number text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
COMMENT ON TABLE tbl_invoices IS 'Bills.';
-- A ledger that waives soft delete and version, and a waived float.
CREATE TABLE ledger_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    rate double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ledger_entries IS 'Money movements.
Convention waived: soft_delete (append-only)
Convention waived: version (never updated)';
COMMENT ON COLUMN ledger_entries.rate IS 'Convention waived: float (display only)';
-- Rows per tenant, row-level security on but not forced, and no policy.
CREATE TABLE workspaces (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX idx_workspaces_tenant_id ON workspaces (tenant_id) WHERE deleted_at IS NULL;
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
WITH a AS (INSERT INTO accounts (email) VALUES ('a@example.com') RETURNING id)
INSERT INTO tbl_invoices (account_id, number) SELECT id, 'INV-1' FROM a;
"#;

#[tokio::test]
async fn a_messy_schema_gives_its_known_findings() {
    let db = TestDatabase::with_schema(MESSY).await.unwrap();
    let conn = db.connect().await.unwrap();
    // A failed concurrent build leaves an invalid index behind.
    conn.batch_execute(
        "INSERT INTO tbl_invoices (account_id, number) SELECT account_id, number FROM tbl_invoices",
    )
    .await
    .unwrap();
    let failed = conn
        .batch_execute(
            "CREATE UNIQUE INDEX CONCURRENTLY idx_invoices_number_unique ON tbl_invoices (number)",
        )
        .await;
    assert!(failed.is_err(), "the duplicate numbers fail the build");
    // Accounts are read through their primary key, never by created_at.
    for _ in 0..20 {
        conn.query("SELECT * FROM accounts WHERE id = gen_random_uuid()", &[])
            .await
            .unwrap();
    }
    conn.batch_execute("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();

    let options = AuditOptions {
        unused_after_reads: Some(10),
        ..AuditOptions::default()
    };
    let findings = audit(&conn, &options).await.unwrap();
    let mut got: Vec<(String, Option<String>, Rule)> = findings
        .iter()
        .map(|f| (f.table.clone(), f.object.clone(), f.rule))
        .collect();
    got.sort();
    let t = |table: &str, object: Option<&str>, rule| {
        (table.to_owned(), object.map(str::to_owned), rule)
    };
    let mut expected = vec![
        t("Customer", None, Rule::TableName),
        t("Customer", None, Rule::PrimaryKey),
        t("Customer", None, Rule::RequiredColumn), // created_at
        t("Customer", None, Rule::RequiredColumn), // updated_at
        t("Customer", None, Rule::RequiredColumn), // deleted_at
        t("Customer", None, Rule::RequiredColumn), // version
        t("Customer", Some("customerName"), Rule::ColumnName),
        t("Customer", Some("customerName"), Rule::LimitedText),
        t("Customer", Some("active"), Rule::BooleanName),
        t("Customer", Some("balance"), Rule::Float),
        t(
            "Customer",
            Some("signed_up"),
            Rule::TimestampWithoutTimeZone,
        ),
        t("order_item", None, Rule::PluralTable),
        t("order_item", Some("order_item_pkey"), Rule::UuidId),
        t("order_item", Some("product_id"), Rule::UndeclaredReference),
        t("order_item", Some("payload"), Rule::Json),
        t("order_item", Some("created_at"), Rule::RequiredColumnType),
        t("order_item", Some("version"), Rule::RequiredColumnType), // no CHECK
        t(
            "accounts",
            Some("accounts_email_key"),
            Rule::UniqueOnDeletedRows,
        ),
        t(
            "accounts",
            Some("idx_accounts_created_at"),
            Rule::UnusedIndex,
        ),
        t("tbl_invoices", None, Rule::TypePrefix),
        t("tbl_invoices", Some("owner"), Rule::ForeignKeyName),
        t(
            "tbl_invoices",
            Some("tbl_invoices_account_id_fkey"),
            Rule::ForeignKeyIndex,
        ),
        t(
            "tbl_invoices",
            Some("tbl_invoices_owner_fkey"),
            Rule::ForeignKeyIndex,
        ),
        t(
            "tbl_invoices",
            Some("idx_invoices_number_unique"),
            Rule::InvalidIndex,
        ),
        t("tbl_invoices", Some("version"), Rule::RequiredColumnType), // no CHECK
        t("workspaces", None, Rule::TenantIsolation),
        // Names PostgreSQL or a hand gave, not the naming policy's.
        t("accounts", Some("accounts_email_key"), Rule::ObjectName),
        t("accounts", Some("accounts_version_check"), Rule::ObjectName),
        t(
            "workspaces",
            Some("workspaces_version_check"),
            Rule::ObjectName,
        ),
    ];
    expected.sort();
    assert_eq!(got, expected, "\n{}", render(&findings));

    // Every finding says what to do; the SQL fixes run as written.
    assert!(findings.iter().all(|f| !f.fix.is_empty()));
    let fix = |rule: Rule, object: &str| {
        findings
            .iter()
            .find(|f| f.rule == rule && f.object.as_deref() == Some(object))
            .map(|f| f.fix.clone())
            .unwrap()
    };
    conn.batch_execute(&fix(Rule::ForeignKeyIndex, "tbl_invoices_account_id_fkey"))
        .await
        .unwrap();
    conn.batch_execute(&fix(Rule::Json, "payload"))
        .await
        .unwrap();
    conn.batch_execute(&fix(Rule::LimitedText, "customerName"))
        .await
        .unwrap();
    conn.batch_execute(&fix(Rule::RequiredColumnType, "version"))
        .await
        .unwrap();
    // Renames, in place: an index and a constraint.
    conn.batch_execute(&fix(Rule::ObjectName, "accounts_email_key"))
        .await
        .unwrap();
    conn.batch_execute(&fix(Rule::ObjectName, "accounts_version_check"))
        .await
        .unwrap();
    let isolation = findings
        .iter()
        .find(|f| f.rule == Rule::TenantIsolation)
        .unwrap();
    assert_eq!(
        isolation.problem,
        "rows carry tenant_id but tenants are not kept apart: no policy, \
         its owner bypasses row-level security"
    );
    let statements = isolation.fix.split("; then").next().unwrap();
    conn.batch_execute(statements).await.unwrap();
    let after = audit(&conn, &options).await.unwrap();
    assert_eq!(after.len(), findings.len() - 7, "\n{}", render(&after));
    let report = render(&findings);
    assert!(
        report.contains("table name \"order_item\" is not plural: did you mean \"order_items\"?")
    );
    assert!(report.ends_with("29 findings\n"), "{report}");
    assert_eq!(
        fix(Rule::ObjectName, "accounts_email_key"),
        "ALTER INDEX \"accounts_email_key\" RENAME TO \"idx_accounts_email_unique\";"
    );
    assert_eq!(
        fix(Rule::ObjectName, "accounts_version_check"),
        "ALTER TABLE \"accounts\" RENAME CONSTRAINT \"accounts_version_check\" TO \"accounts_version_min\";"
    );
}

/// A soft-deleting tenant table among the kit's own: its `(tenant_id,
/// id)` key, unique over every row for foreign keys, is no finding (it holds
/// `id`, so a deleted row can never block a new one).
#[derive(ordinance::Entity, Debug)]
#[entity(tenant)]
pub struct Folder {
    pub id: ordinance::prelude::Uuid,
    pub tenant_id: ordinance::prelude::Uuid,
    #[column(max_len = 100, unique)]
    pub name: String,
    pub created_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub updated_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub deleted_at: Option<ordinance::prelude::DateTime<ordinance::prelude::Utc>>,
    pub version: i32,
}

#[tokio::test]
async fn the_kits_own_schema_follows_the_rule_book() {
    assert!(ordinance::registered_schemas()
        .iter()
        .any(|s| s.name == "folders" && s.tenant));
    let schemas = ordinance::registered_schemas();
    let ddl = SchemaDdl::new(&schemas).unwrap();
    let db = TestDatabase::with_schema(&ddl.up()).await.unwrap();
    let conn = db.connect().await.unwrap();
    let findings = audit(&conn, &AuditOptions::default()).await.unwrap();
    assert!(findings.is_empty(), "{}", render(&findings));
}
