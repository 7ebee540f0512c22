//! The catalogue under its team policy (`prefixed` names, bounded text as
//! `VARCHAR(n)`, v4 ids, actor columns required): its DDL says so, its
//! migrations build exactly that on a real PostgreSQL (the drift test), and
//! the audit agrees — under the entities' conventions it finds nothing,
//! under the kit's default it lists each name with a rename and each
//! `VARCHAR(n)` with its `TEXT` and check.

use ordinance::audit::{audit, render, AuditOptions, Rule};
use ordinance::ddl::SchemaDdl;
use ordinance::schema::{BoundedText, Naming};
use ordinance::testing::TestDatabase;
use ordinance::Entity as _;
use ordinance_example_prefixed::{schemas, Author, Book};

/// Every name the policy gives, by table.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "authors",
        &[
            "pk_authors",
            "uq_authors_email",
            "ix_authors_created_at_id",
            "ck_authors_name_min_length",
            "ck_authors_version_min",
        ],
    ),
    (
        "books",
        &[
            "pk_books",
            "fk_books_author_id",
            "ix_books_author_id",
            "ix_books_format_id",
            "ck_books_title_min_length",
            "ck_books_pages_min",
            "ck_books_version_min",
        ],
    ),
    (
        "shelves",
        &[
            "pk_shelves",
            "ck_shelves_label_min_length",
            "ck_shelves_version_min",
            // A tenant's unique key leads with tenant_id; its name keeps
            // the declared column.
            "uq_shelves_label",
            "ix_shelves_tenant_id_created_at_id",
            "uq_shelves_tenant_id_id",
        ],
    ),
];

#[test]
fn the_schemas_carry_the_policy_and_its_names() {
    assert_eq!(Author::SCHEMA.conventions.naming, Naming::PREFIXED);
    assert_eq!(
        Author::SCHEMA.conventions.bounded_text,
        BoundedText::Varchar
    );
    assert_eq!(Author::SCHEMA.primary_key, "pk_authors");
    assert_eq!(Book::SCHEMA.foreign_keys[0].name, "fk_books_author_id");
    let ddl = SchemaDdl::new(&schemas()).unwrap().up();
    for (_, names) in EXPECTED {
        for name in *names {
            assert!(
                ddl.contains(&format!("\"{name}\"")),
                "{name} missing from:\n{ddl}"
            );
        }
    }
    for default_name in [
        "\"authors_pkey\"",
        "\"idx_",
        "_fkey\"",
        "\"authors_email_max_length\"",
    ] {
        assert!(!ddl.contains(default_name), "{default_name} in:\n{ddl}");
    }
}

#[tokio::test]
async fn the_migrations_build_the_policys_names() {
    ordinance::migrate::assert_up_to_date(&schemas(), "migrations").await;
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect().await.unwrap();
    for (table, expected) in EXPECTED {
        let rows = conn
            .query(
                "SELECT conname::text FROM pg_constraint WHERE conrelid = $1::text::regclass \
                 UNION SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = $1::text::regclass",
                &[table],
            )
            .await
            .unwrap();
        let mut got: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        got.sort();
        // The primary key's index shares its constraint's name.
        got.dedup();
        let mut expected: Vec<String> = expected.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(got, expected, "{table}");
    }
}

#[tokio::test]
async fn the_audit_reads_the_same_policy() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect().await.unwrap();
    let ours = AuditOptions {
        conventions: Author::SCHEMA.conventions,
        ..AuditOptions::default()
    };
    let findings = audit(&conn, &ours).await.unwrap();
    assert!(findings.is_empty(), "{}", render(&findings));

    // Under the kit's default every name is reported, with a rename, and
    // every VARCHAR(n) with its TEXT and check.
    let findings = audit(&conn, &AuditOptions::default()).await.unwrap();
    let mut renamed: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == Rule::ObjectName)
        .filter_map(|f| f.object.clone())
        .collect();
    renamed.sort();
    let mut every: Vec<String> = EXPECTED
        .iter()
        .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
        .collect();
    every.sort();
    assert_eq!(renamed, every, "{}", render(&findings));
    let mut limited: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == Rule::LimitedText)
        .filter_map(|f| f.object.clone())
        .collect();
    limited.sort();
    assert_eq!(
        limited,
        ["email", "label", "name", "title"],
        "{}",
        render(&findings)
    );
    // And each native enum column with its TEXT and check.
    let mut enums: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == Rule::EnumStorage)
        .map(|f| format!("{}.{}", f.table, f.object.as_deref().unwrap_or("")))
        .collect();
    enums.sort();
    assert_eq!(
        enums,
        ["books.format", "shelves.kind"],
        "{}",
        render(&findings)
    );
    assert_eq!(findings.len(), every.len() + 6, "{}", render(&findings));
    let fix = |object: &str| {
        findings
            .iter()
            .find(|f| f.object.as_deref() == Some(object))
            .map(|f| f.fix.clone())
            .unwrap()
    };
    assert_eq!(
        fix("uq_authors_email"),
        "ALTER INDEX \"uq_authors_email\" RENAME TO \"idx_authors_email_unique\";"
    );
    assert_eq!(
        fix("format"),
        "ALTER TABLE \"books\" ALTER COLUMN \"format\" TYPE text USING \"format\"::text, \
         ADD CONSTRAINT \"books_format_valid\" CHECK (\"format\" IN ('hardcover', 'paperback', 'ebook')); \
         -- rewrites the table; or keep the type with types.enums = \"native\" in the team's policy"
    );
    assert_eq!(
        fix("fk_books_author_id"),
        "ALTER TABLE \"books\" RENAME CONSTRAINT \"fk_books_author_id\" TO \"books_author_id_fkey\";"
    );
    // The fixes run as written, and then the default finds nothing.
    for f in &findings {
        conn.batch_execute(&f.fix).await.unwrap();
    }
    let after = audit(&conn, &AuditOptions::default()).await.unwrap();
    assert!(after.is_empty(), "{}", render(&after));

    // The other way: under the team's policy those checks are enums to
    // make native, each fix moving the values into a type of the name the
    // entity's DbEnum gives it.
    let native: Vec<_> = audit(&conn, &ours)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.rule == Rule::EnumStorage)
        .collect();
    assert_eq!(native.len(), 2, "{}", render(&native));
    for f in &native {
        conn.batch_execute(&f.fix).await.unwrap();
    }
    let left = audit(&conn, &ours).await.unwrap();
    assert!(
        !left.iter().any(|f| f.rule == Rule::EnumStorage),
        "{}",
        render(&left)
    );
    let types = conn
        .query(
            "SELECT typname::text FROM pg_type WHERE typtype = 'e' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let types: Vec<String> = types.iter().map(|r| r.get(0)).collect();
    assert_eq!(types, ["book_format", "shelf_kind"]);
    // The enum columns, their types and defaults are the entities' again:
    // the drift left is the VARCHAR(n) columns the default's fixes made
    // TEXT (and the names).
    let drift = ordinance::migrate::live_drift(&conn, &schemas()).await;
    let Err(ordinance::Error::ManualMigration(by_hand)) = drift else {
        panic!("{drift:?}");
    };
    assert_eq!(by_hand.len(), 4, "{by_hand:?}");
    assert!(
        by_hand.iter().all(|c| c.contains("to character varying(")),
        "{by_hand:?}"
    );
}

#[tokio::test]
async fn adopting_the_policy_on_an_existing_schema_renames_in_place() {
    // A database built under the kit's default names: the prefixed
    // migrations, renamed back by the default audit's own fixes.
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect().await.unwrap();
    for f in audit(&conn, &AuditOptions::default()).await.unwrap() {
        if f.rule == Rule::ObjectName {
            conn.batch_execute(&f.fix).await.unwrap();
        }
    }
    conn.batch_execute("INSERT INTO authors (email, name) VALUES ('a@example.com', 'A')")
        .await
        .unwrap();
    // The team adopts `prefixed`: the migration renames every object.
    let steps = ordinance::migrate::live_drift(&conn, &schemas())
        .await
        .unwrap();
    let sql = ordinance::migrate::render_steps(&steps);
    let statements: Vec<&str> = sql
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ALTER") || l.starts_with("CREATE") || l.starts_with("DROP"))
        .collect();
    assert_eq!(
        statements.len(),
        EXPECTED.iter().map(|(_, n)| n.len()).sum::<usize>(),
        "one rename per object:\n{sql}"
    );
    for s in &statements {
        assert!(
            s.starts_with("ALTER INDEX") && s.contains(" RENAME TO ")
                || s.starts_with("ALTER TABLE") && s.contains(" RENAME CONSTRAINT "),
            "not a rename: {s}\n{sql}"
        );
    }
    // Applied, the database is the entities' again, its row untouched.
    for step in &steps {
        for statement in &step.up {
            conn.batch_execute(statement).await.unwrap();
        }
    }
    let ours = AuditOptions {
        conventions: Author::SCHEMA.conventions,
        ..AuditOptions::default()
    };
    let findings = audit(&conn, &ours).await.unwrap();
    assert!(findings.is_empty(), "{}", render(&findings));
    let again = ordinance::migrate::live_drift(&conn, &schemas())
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "{}",
        ordinance::migrate::render_steps(&again)
    );
    let rows = conn.query("SELECT email FROM authors", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn ids_are_made_as_the_policy_says() {
    use ordinance::repo::Repo;
    use ordinance_example_prefixed::{NewAuthor, NewBook};

    assert_eq!(
        Author::SCHEMA.conventions.ids,
        ordinance::schema::IdGeneration::V4
    );
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let author = Repo::new(&conn)
        .insert(&NewAuthor {
            email: "ids@example.com".into(),
            name: "Ids".into(),
        })
        .await
        .unwrap();
    assert_eq!(author.id.get_version_num(), 4);
    let books: Vec<NewBook> = (1..=3)
        .map(|pages| NewBook {
            author_id: author.id,
            title: format!("Volume {pages}"),
            pages,
            format: ordinance_example_prefixed::BookFormat::Ebook,
        })
        .collect();
    let stored = ordinance::batch::insert_many(&mut conn, &books)
        .await
        .unwrap();
    assert!(stored.iter().all(|b| b.id.get_version_num() == 4));
}

#[tokio::test]
async fn varchar_columns_refuse_long_text_before_and_in_the_database() {
    use ordinance::repo::Repo;
    use ordinance_example_prefixed::NewAuthor;

    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect().await.unwrap();
    let long = NewAuthor {
        email: format!("{}@example.com", "a".repeat(320)),
        name: "Long".into(),
    };
    // The kit refuses it before sending, naming the column and the limit.
    let err = Repo::new(&conn).insert(&long).await.unwrap_err();
    assert!(matches!(err, ordinance::Error::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("email"), "{err}");
    // The database refuses it too, as VARCHAR(320).
    let sent = conn
        .execute(
            "INSERT INTO authors (email, name) VALUES ($1, 'x')",
            &[&long.email],
        )
        .await
        .unwrap_err();
    let typed = ordinance::Error::from_db(sent, Author::SCHEMA);
    assert!(
        matches!(
            typed,
            ordinance::Error::InvalidValue {
                column: Some("email"),
                ..
            }
        ),
        "{typed:?}"
    );
}

#[test]
fn the_schema_document_states_the_conventions() {
    let doc = ordinance::document::markdown(&schemas());
    assert!(
        doc.contains(
            "Names: primary keys `pk_{table}`, indexes `ix_{table}_{columns}`, unique indexes \
             `uq_{table}_{columns}`, checks `ck_{table}_{column}_{rule}`, foreign keys \
             `fk_{table}_{column}`. Ids: UUIDv4 (random). Bounded text: `VARCHAR(n)`. \
             Enums: native enum types."
        ),
        "{doc}"
    );
    assert!(
        doc.contains("native enum, one of `hardcover`, `paperback`, `ebook`"),
        "{doc}"
    );
    assert!(doc.contains("| `email` | `VARCHAR(320)` |"), "{doc}");
}

#[tokio::test]
async fn adopt_writes_no_names_that_follow_the_policy() {
    let db = TestDatabase::migrated("migrations").await.unwrap();
    let conn = db.connect().await.unwrap();
    let database = ordinance::inspect::Database::read(&conn).await.unwrap();
    let ours = ordinance::adopt::entities_under(&database, Author::SCHEMA.conventions);
    assert!(!ours.code.contains("index_name"), "{}", ours.code);
    assert!(!ours.code.contains("name = \""), "{}", ours.code);
    let about_names = |notes: &[(String, String)]| {
        notes
            .iter()
            .filter(|(_, n)| n.contains("another name"))
            .count()
    };
    assert_eq!(about_names(&ours.notes), 0, "{:?}", ours.notes);
    assert!(ours.code.contains("max_len = 320"), "{}", ours.code);
    // Native enum types come back as one `DbEnum` each, with their values
    // in order and a column's default.
    assert!(
        ours.code.contains(
            "/// The native enum type `book_format`.\n#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]\n\
             pub enum BookFormat {\n    Hardcover,\n    Paperback,\n    Ebook,\n}"
        ),
        "{}",
        ours.code
    );
    assert_eq!(
        ours.code.matches("pub enum ShelfKind").count(),
        1,
        "{}",
        ours.code
    );
    assert!(
        ours.code.contains("    pub format: BookFormat,"),
        "{}",
        ours.code
    );
    assert!(
        ours.code.contains("default = \"paperback\""),
        "{}",
        ours.code
    );
    assert!(
        ours.notes.is_empty() || !ours.notes.iter().any(|(_, n)| n.contains("cannot")),
        "{:?}",
        ours.notes
    );
    assert!(ours.skipped.is_empty(), "{:?}", ours.skipped);
    // Under the kit's default a VARCHAR(n) column is not one it stores:
    // those tables are left out, saying why.
    let default = ordinance::adopt::entities(&database);
    assert!(
        default
            .skipped
            .iter()
            .any(|(t, why)| t == "authors" && why.contains("character varying(320)")),
        "{:?}",
        default.skipped
    );
}
