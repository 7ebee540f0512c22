//! Bound values never reach a log. With every log record captured at TRACE
//! — the driver's own (`log` crate: "executing statement … with parameters")
//! and the kit's (`tracing` spans and events) — secret values are written and
//! read through every executor, batch path and builder, and an error about
//! one is logged; the secrets appear nowhere in the output.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use ordinance::deps::sea_query::{Expr, ExprTrait};
use ordinance::exec::{transaction, Unnamed};
use ordinance::page::Pager;
use ordinance::pool::{Pool, PoolOptions};
use ordinance::repo::Repo;
use ordinance::{batch, query};
use ordinance_tests::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Everything logged, as text.
fn output() -> &'static Mutex<String> {
    static OUT: OnceLock<Mutex<String>> = OnceLock::new();
    OUT.get_or_init(|| Mutex::new(String::new()))
}

fn append(line: std::fmt::Arguments<'_>) {
    let mut out = output().lock().expect("lock");
    let _ = writeln!(out, "{line}");
}

/// The `log` side: tokio-postgres logs through it.
struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        append(format_args!(
            "log {} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

/// The `tracing` side: every span's and event's fields.
struct TraceCapture;

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for TraceCapture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        attrs.record(&mut fields);
        append(format_args!("span {}{}", attrs.metadata().name(), fields.0));
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        values.record(&mut fields);
        append(format_args!("record{}", fields.0));
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        append(format_args!(
            "event {} {}{}",
            event.metadata().level(),
            event.metadata().target(),
            fields.0
        ));
    }
}

const SECRET_EMAIL: &str = "s3cret-person@example.com";
const SECRET_NAME: &str = "Hunter2 Corp s3cret";
const SECRET_PATIENT: &str = "patient-s3cret@example.com";

/// Personal data, marked sensitive.
#[derive(ordinance::Entity)]
pub struct Patient {
    pub id: ordinance::prelude::Uuid,
    #[column(max_len = 320, unique, sensitive)]
    pub email: String,
    #[column(max_len = 120)]
    pub ward: String,
    pub created_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub updated_at: ordinance::prelude::DateTime<ordinance::prelude::Utc>,
    pub deleted_at: Option<ordinance::prelude::DateTime<ordinance::prelude::Utc>>,
    pub version: i32,
}

fn new_patient(email: &str) -> NewPatient {
    NewPatient {
        email: email.into(),
        ward: "cardiology".into(),
    }
}

#[tokio::test]
async fn sensitive_columns_are_redacted_in_debug_and_marked_in_the_catalog() {
    let db = ordinance::testing::TestDatabase::with_schema(&ordinance::ddl::create_table(
        <Patient as ordinance::Entity>::SCHEMA,
    ))
    .await
    .expect("db");
    let client = db.connect().await.expect("connect");
    let patient = Repo::new(&client)
        .insert(&new_patient(SECRET_PATIENT))
        .await
        .expect("insert");
    assert_eq!(patient.email, SECRET_PATIENT, "stored and read back as is");
    let shown = format!("{patient:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("email: <redacted>"), "{shown}");
    assert!(shown.contains("ward: \"cardiology\""), "{shown}");
    let pretty = format!("{patient:#?}");
    assert!(!pretty.contains("s3cret"), "{pretty}");

    let row = client
        .query_one(
            "SELECT col_description('patients'::regclass, attnum) FROM pg_attribute \
             WHERE attrelid = 'patients'::regclass AND attname = 'email'",
            &[],
        )
        .await
        .expect("comment");
    let comment: Option<String> = row.get(0);
    assert_eq!(comment.as_deref(), Some(ordinance::ddl::SENSITIVE_COMMENT));
    // Other columns carry no such mark.
    let ward = <Patient as ordinance::Entity>::SCHEMA
        .column("ward")
        .expect("ward");
    assert!(!ward.sensitive);
}
const SECRET_TITLE: &str = "s3cret title";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bound_value_reaches_any_log() {
    log::set_boxed_logger(Box::new(LogCapture)).expect("logger");
    log::set_max_level(log::LevelFilter::Trace);
    let subscriber = tracing_subscriber::registry().with(TraceCapture);
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");

    let db = fixture_database().await;
    let mut client = db.connect().await.expect("connect");
    client
        .batch_execute(&ordinance::ddl::create_table(
            <Patient as ordinance::Entity>::SCHEMA,
        ))
        .await
        .expect("patients");
    // A sensitive column, written, logged as a whole entity, and refused.
    let patient = Repo::new(&client)
        .insert(&new_patient(SECRET_PATIENT))
        .await
        .expect("patient");
    tracing::info!(patient = ?patient, "patient stored");
    let refused = Repo::new(&client)
        .insert(&new_patient(SECRET_PATIENT))
        .await
        .expect_err("duplicate patient");
    tracing::error!(error = %refused, debug = ?refused, "patient refused");
    let pool = Pool::connect(db.config().clone(), PoolOptions::default())
        .await
        .expect("pool");

    // A plain client.
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization(SECRET_NAME))
        .await
        .expect("org");
    let user = repo
        .insert(&new_user(org.id, SECRET_EMAIL))
        .await
        .expect("user");
    let mut renamed = user.clone();
    renamed.display_name = Some(SECRET_NAME.into());
    let user = repo.update(&renamed).await.expect("update");

    // A read whose condition carries the secret, a page filtered by it, and
    // a builder.
    let found: Vec<User> = repo
        .list(
            &query::live::<User>()
                .and_where(Expr::col(UserColumn::Email).eq(SECRET_EMAIL))
                .to_owned(),
        )
        .await
        .expect("list");
    assert_eq!(found.len(), 1);
    let pager = Pager::<User>::new()
        .expect("pager")
        .filter(Expr::col(UserColumn::Email).eq(SECRET_EMAIL));
    assert_eq!(repo.first_page(&pager).await.expect("page").items.len(), 1);
    let mut built = user.clone();
    built.display_name = Some(format!("{SECRET_NAME} built"));
    repo.fetch::<User>(&query::update(&built).expect("builder"))
        .await
        .expect("builder update");

    // A pooled connection.
    let conn = pool.get().await.expect("pooled");
    Repo::new(&**conn)
        .insert(&new_task(org.id, SECRET_TITLE))
        .await
        .expect("pooled insert");

    // The unnamed mode.
    Repo::new(&Unnamed(&client))
        .insert(&new_task(org.id, SECRET_TITLE))
        .await
        .expect("unnamed insert");

    // A transaction (closure form), batches and COPY.
    transaction(&mut client, async |tx| {
        Repo::new(&*tx)
            .insert(&new_task(org.id, SECRET_TITLE))
            .await?;
        batch::insert_many(tx, &[new_task(org.id, SECRET_TITLE)]).await?;
        batch::insert_many_count(tx, &[new_task(org.id, SECRET_TITLE)]).await?;
        Ok(())
    })
    .await
    .expect("transaction");
    batch::copy_in(&client, &[new_task(org.id, SECRET_TITLE)])
        .await
        .expect("copy");

    // An error about a secret value, logged the way services log errors.
    let err = Repo::new(&client)
        .insert(&new_user(org.id, SECRET_EMAIL))
        .await
        .expect_err("duplicate email");
    tracing::error!(error = %err, debug = ?err, "insert failed");
    log::error!("insert failed: {err} / {err:?}");

    let out = output().lock().expect("lock").clone();
    for secret in [SECRET_EMAIL, SECRET_NAME, SECRET_TITLE, "s3cret"] {
        if let Some(at) = out.find(secret) {
            let line_start = out[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = out[at..].find('\n').map_or(out.len(), |i| at + i);
            panic!(
                "a bound value reached the log: {}",
                &out[line_start..line_end]
            );
        }
    }
    // The capture works: the driver's parameter log and the kit's spans are there.
    assert!(
        out.contains("executing statement") && out.contains("with parameters: [<redacted>"),
        "the driver's statement log was not captured:\n{out}"
    );
    assert!(out.contains("span ordinance.statement"), "{out}");
    assert!(out.contains("duplicate key value"), "{out}");
    drop(conn);
    pool.close();
}
