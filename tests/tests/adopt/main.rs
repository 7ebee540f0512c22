//! Adopting an existing schema: entities written from a hand-made legacy
//! database compile (they are checked in beside this file, and a test
//! fails when the writer's output differs from them), and the drift check
//! of those entities against that database finds nothing once the
//! writer's `COMMENT` statements (the waivers) are applied.

#[allow(dead_code)] // The fields are there to describe the table.
mod adopted;

use ordinance::adopt::adopt;
use ordinance::migrate::{live_drift, render_steps};
use ordinance::testing::TestDatabase;

/// A schema written by hand before the kit: names and types follow the
/// rule book where PostgreSQL's own defaults do, but the tables lack soft
/// delete or versions, use floats and plain booleans, reference another
/// service, and carry a status list as a check.
pub const LEGACY: &str = r#"
CREATE TABLE vendors (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    name text NOT NULL CONSTRAINT vendors_name_max_length CHECK (char_length(name) <= 120),
    active boolean NOT NULL DEFAULT true,
    rating double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vendors IS 'Companies we buy from.';
COMMENT ON COLUMN vendors.name IS 'Trading name.';

CREATE TABLE purchase_orders (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    vendor_id uuid NOT NULL CONSTRAINT purchase_orders_vendor_id_fkey REFERENCES vendors (id) ON DELETE CASCADE,
    buyer_id uuid NOT NULL,
    reference text NOT NULL CONSTRAINT purchase_orders_reference_min_length CHECK (char_length(reference) >= 3),
    status text NOT NULL DEFAULT 'open'
        CONSTRAINT purchase_orders_status_valid CHECK (status IN ('open', 'sent', 'received')),
    total numeric(12,2) NOT NULL DEFAULT 0,
    lines integer NOT NULL DEFAULT 0 CONSTRAINT purchase_orders_lines_min CHECK (lines >= 0),
    notes text,
    tags text[] NOT NULL DEFAULT '{}',
    quantities integer[] NOT NULL DEFAULT '{}'
        CONSTRAINT purchase_orders_quantities_no_nulls CHECK (array_position(quantities, NULL) IS NULL),
    unit_prices numeric(8,2)[],
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1 CONSTRAINT purchase_orders_version_min CHECK (version >= 1)
);
CREATE INDEX idx_purchase_orders_vendor_id ON purchase_orders (vendor_id);
CREATE UNIQUE INDEX idx_purchase_orders_reference_unique ON purchase_orders (reference) WHERE deleted_at IS NULL;
CREATE INDEX idx_purchase_orders_status_created_at ON purchase_orders (status, created_at) WHERE deleted_at IS NULL;

-- Rows per tenant, kept apart by row-level security the way the kit's DDL
-- does it: adopted as a tenant entity.
CREATE TABLE shipments (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid,
    tracking text NOT NULL CONSTRAINT shipments_tracking_max_length CHECK (char_length(tracking) <= 40),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version integer NOT NULL DEFAULT 1 CONSTRAINT shipments_version_min CHECK (version >= 1)
);
CREATE INDEX idx_shipments_tenant_id ON shipments (tenant_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX idx_shipments_tenant_id_id_unique ON shipments (tenant_id, id);
CREATE UNIQUE INDEX idx_shipments_tracking_unique ON shipments (tenant_id, tracking) WHERE deleted_at IS NULL;
ALTER TABLE shipments ENABLE ROW LEVEL SECURITY;
ALTER TABLE shipments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shipments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The rule book cannot describe this one: it is left out, with the reason.
CREATE TABLE audit_log (
    entry_no bigserial PRIMARY KEY,
    message text
);
"#;

#[tokio::test]
async fn adopted_entities_match_the_legacy_database() {
    let db = TestDatabase::with_schema(LEGACY).await.unwrap();
    let conn = db.connect().await.unwrap();
    let adopted = adopt(&conn).await.unwrap();

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/adopt/adopted.rs");
    if std::env::var_os("ORDINANCE_BLESS").is_some() {
        std::fs::write(path, &adopted.code).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap();
    // Compared without whitespace: `cargo fmt` may lay the file out anew.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(
        squeeze(&adopted.code),
        squeeze(&checked_in),
        "the writer's output changed; review it with \
         `ORDINANCE_BLESS=1 cargo test -p ordinance-tests --test adopt`"
    );
    assert_eq!(
        adopted.skipped,
        [(
            "audit_log".to_owned(),
            "its primary key is not `id uuid`".to_owned()
        )]
    );
    assert!(adopted.notes.is_empty(), "{:?}", adopted.notes);

    // The waivers go into the database's comments, as the kit's DDL writes
    // them; then the entities describe the database exactly (the audit_log
    // table they leave out aside).
    conn.batch_execute(&adopted.sql).await.unwrap();
    let steps = live_drift(&conn, &adopted::schemas()).await.unwrap();
    let sql = render_steps(&steps);
    let rest: Vec<&str> = sql
        .lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
        .collect();
    assert_eq!(rest, ["DROP TABLE \"audit_log\";"], "{sql}");
}

#[tokio::test]
async fn without_the_waiver_comments_the_drift_check_says_so() {
    let db = TestDatabase::with_schema(LEGACY).await.unwrap();
    let conn = db.connect().await.unwrap();
    let steps = live_drift(&conn, &adopted::schemas()).await.unwrap();
    let sql = render_steps(&steps);
    assert!(sql.contains("COMMENT ON TABLE \"vendors\""), "{sql}");
}
