//! The migration commands, as a library: the `ordinance-migrate` binary and
//! an application's own one-line binary run the same code.
//!
//! ```no_run
//! // src/bin/migrate.rs of an application.
//! fn main() -> std::process::ExitCode {
//!     ordinance::cli::main(ordinance::migrate::Migrations::load("migrations"))
//! }
//! ```
//!
//! With `ordinance::embed_migrations!("migrations")` as the argument
//! instead, the folder is built into the binary and nothing is read at run
//! time.
//!
//! ```text
//! migrate [--database-url URL] status      what is applied, pending, and in which phase
//! migrate [...] up                         the expand phase: pending migrations up to the first contract one
//! migrate [...] contract                   every pending migration, contract ones included
//! migrate [...] dry-run                    what `contract` would run
//! migrate [...] plan                       each pending statement's lock, rewrite or scan, transaction
//! migrate [...] down VERSION               revert migrations newer than VERSION (0: all)
//! migrate diagram mermaid|dot              the entities as a Mermaid erDiagram or Graphviz DOT
//! migrate document [FILE]                  the schema as Markdown, on stdout or written to FILE
//! migrate grants APP [--read-only ROLE]    the generated grants for the application's roles, on stdout
//! migrate [...] grants APP [...] --apply   the same, run against the database (as its owner)
//! migrate [...] audit                      the database against the rule book; exit 1 on findings
//! migrate [...] adopt                      entity structs for the database's tables, on stdout
//! migrate [...] stats                      the entities' statements from pg_stat_statements, most total time first
//! migrate [...] verify --previous CATALOG   prove the deploy: each pending migration applied in a scratch
//!                                           database, both releases' statements prepared after each;
//!                                           CATALOG is the previous release's statements.catalog, or a
//!                                           git ref holding it (`main`, `v1.4.0`); exit 1 on a failure
//! migrate lint                             every migration against the kit's rules (concurrent index builds,
//!                                           NOT VALID then VALIDATE, no volatile defaults, SET NOT NULL
//!                                           through a validated check, no type changes, lock_timeout set),
//!                                           each finding with its fix; exit 1 on findings
//! migrate [...] rehearse --previous CATALOG [--rows N] [--max-exclusive-ms N]
//!                                           the pending migrations on the previous release's schema filled
//!                                           with rows (10,000 a table), readers and writers trying each
//!                                           table; the locks held, the waits, the rewrites; exit 1 on an
//!                                           ACCESS EXCLUSIVE lock held longer (1,000 ms) or a rewrite
//! ```
//!
//! `diagram`, `document` and `grants` (without `--apply`) need no database:
//! they describe the entities given to
//! [`main_with_entities`] (or, with [`main`], every entity linked into the
//! program). `audit` and `adopt` need no migrations: the
//! `ordinance-migrate` binary runs them against any database.
//!
//! The database comes from `--database-url` or `DATABASE_URL`. Each
//! migration is printed as it is applied, with its duration, and each
//! backfill batch with the rows so far; a failure prints PostgreSQL's
//! message, detail and hint and the statement, after the lines of what was
//! already applied.

use std::process::ExitCode;

use crate::error::Result;
use crate::migrate::Migrations;
use crate::schema::TableSchema;

const USAGE: &str = "usage: migrate [--database-url URL] <status | up | contract | dry-run | plan \
                     | down VERSION | diagram mermaid|dot | document [FILE] \
                     | grants APP [--read-only ROLE] [--apply] | audit | adopt | stats \
                     | lint | verify --previous CATALOG_OR_GIT_REF \
                     | rehearse --previous CATALOG_OR_GIT_REF [--rows N] [--max-exclusive-ms N]>";

/// The command line's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    dir: Option<String>,
    url: Option<String>,
    command: Vec<String>,
}

fn parse(raw: impl IntoIterator<Item = String>) -> std::result::Result<Args, String> {
    let mut raw = raw.into_iter();
    let mut args = Args {
        dir: None,
        url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
        command: Vec::new(),
    };
    while let Some(arg) = raw.next() {
        match arg.as_str() {
            "--dir" => args.dir = Some(raw.next().ok_or("--dir needs a folder")?),
            "--database-url" => args.url = Some(raw.next().ok_or("--database-url needs a URL")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => args.command.push(arg),
        }
    }
    Ok(args)
}

/// `grants APP [--read-only ROLE] [--apply]`: the generated grants
/// ([`ddl::grants`](crate::ddl::grants)) on `entities` for the roles named,
/// and whether to run them; `None` for another command.
fn grants(
    entities: &[&'static TableSchema],
    command: &[&str],
) -> Option<std::result::Result<(Vec<String>, bool), String>> {
    let ["grants", rest @ ..] = command else {
        return None;
    };
    let apply = rest.last() == Some(&"--apply");
    let rest = if apply { &rest[..rest.len() - 1] } else { rest };
    let (app, read_only) = match rest {
        [app] => (*app, None),
        [app, "--read-only", reader] => (*app, Some(*reader)),
        _ => return Some(Err(USAGE.to_owned())),
    };
    for role in std::iter::once(app).chain(read_only) {
        if role.is_empty() || role.starts_with('-') {
            return Some(Err(format!("not a role name: {role}")));
        }
    }
    let roles = crate::ddl::Roles { app, read_only };
    Some(Ok((crate::ddl::grants(entities, &roles), apply)))
}

/// Runs `grants ...` (printing each statement, and running it with
/// `--apply`); `None` for another command.
async fn run_grants(
    entities: &[&'static TableSchema],
    client: &tokio_postgres::Client,
    command: &[&str],
    out: &(impl Fn(&str) + Send + Sync),
) -> Option<std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>> {
    let (statements, apply) = match grants(entities, command)? {
        Ok(grants) => grants,
        Err(usage) => return Some(Err(usage.into())),
    };
    for statement in &statements {
        if apply {
            if let Err(e) = client.batch_execute(statement).await {
                return Some(Err(Box::new(crate::Error::from(e))));
            }
        }
        out(&format!("{statement};"));
    }
    if apply {
        out(&format!("{} grants applied", statements.len()));
    }
    Some(Ok(()))
}

/// Runs one command (`["up"]`, `["down", "0"]`, ...) against the database
/// `client` is connected to, printing progress lines to `out` as it goes.
/// `grants` covers every entity linked into the program.
pub async fn run(
    migrations: Migrations,
    client: &mut tokio_postgres::Client,
    command: &[&str],
    out: impl Fn(&str) + Send + Sync + 'static,
) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    run_with(
        &crate::registered_schemas(),
        migrations,
        client,
        command,
        out,
    )
    .await
}

/// [`run`] with the entities `grants` covers.
async fn run_with(
    entities: &[&'static TableSchema],
    migrations: Migrations,
    client: &mut tokio_postgres::Client,
    command: &[&str],
    out: impl Fn(&str) + Send + Sync + 'static,
) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if let Some(done) = run_grants(entities, client, command, &out).await {
        return done;
    }
    let out = std::sync::Arc::new(out);
    let print = {
        let out = out.clone();
        move |line: &str| out(line)
    };
    let migrations = migrations.on_progress(print);
    match command {
        ["status"] => {
            let pending = migrations.pending(client).await?;
            for m in migrations.list() {
                let state = if pending.iter().any(|p| p.version == m.version) {
                    "pending"
                } else {
                    "applied"
                };
                let phase = if m.contract { "contract" } else { "expand" };
                out(&format!("{state:<8} {phase:<8} {}_{}", m.version, m.name));
            }
            let contract = pending.iter().filter(|m| m.contract).count();
            out(&format!(
                "{} applied, {} pending ({} of them contract)",
                migrations.list().len() - pending.len(),
                pending.len(),
                contract
            ));
        }
        ["up"] => {
            let applied = migrations.up(client).await?;
            let waiting = migrations
                .pending(client)
                .await?
                .iter()
                .filter(|m| m.contract)
                .count();
            out(&format!("{} applied", applied.len()));
            if waiting > 0 {
                out(&format!(
                    "{waiting} contract migration(s) wait: run `contract` once no instance of the previous version runs"
                ));
            }
        }
        ["contract"] => {
            let applied = migrations.contract(client).await?;
            out(&format!("{} applied", applied.len()));
        }
        ["dry-run"] => out(migrations.dry_run(client).await?.trim_end()),
        ["plan"] => {
            let plans = migrations.plan(client).await?;
            if plans.is_empty() {
                out("nothing to apply");
            } else {
                out(crate::migrate::plan::render(&plans).trim_end());
            }
        }
        ["down", version] => {
            let target: i64 = version
                .parse()
                .map_err(|_| format!("not a version: {version}"))?;
            let reverted = migrations.down_to(client, target).await?;
            for a in &reverted {
                out(&format!("reverted {}_{}", a.version, a.name));
            }
            out(&format!("{} reverted", reverted.len()));
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}

/// `verify --previous CATALOG`: proves the deploy of `migrations` (their
/// own statement catalog is the new release's) from the release whose
/// catalog is `previous` (see [`previous_catalog`]), in a scratch database
/// on the server `config` points at.
pub async fn verify(
    config: &tokio_postgres::Config,
    migrations: &Migrations,
    previous: &str,
    dir: &str,
) -> std::result::Result<crate::proof::Proof, Box<dyn std::error::Error + Send + Sync>> {
    use crate::migrate::CATALOG_FILE;
    use crate::proof::StatementCatalog;
    let new = migrations.statement_catalog().ok_or_else(|| {
        format!(
            "the migrations have no {CATALOG_FILE}: bless them (ORDINANCE_BLESS) so the release's \
             statements are written beside them"
        )
    })?;
    let new = StatementCatalog::parse(new)?;
    let previous = previous_catalog(previous, dir)?;
    Ok(crate::proof::verify_on(config, migrations, &previous, &new).await?)
}

/// `rehearse --previous CATALOG [--rows N] [--max-exclusive-ms N]`:
/// rehearses the deploy of `migrations` from the release whose catalog is
/// `previous` (see [`previous_catalog`]: its schema is where the pending
/// migrations start), with `entities` filling the tables, in a scratch
/// database on the server `config` points at.
pub async fn rehearse(
    config: &tokio_postgres::Config,
    migrations: Migrations,
    previous: &str,
    dir: &str,
    entities: &[&'static TableSchema],
    options: &crate::proof::RehearsalOptions,
) -> std::result::Result<crate::proof::Rehearsal, Box<dyn std::error::Error + Send + Sync>> {
    let previous = previous_catalog(previous, dir)?;
    Ok(crate::proof::rehearse_on(config, migrations, previous.schema, entities, options).await?)
}

/// The previous release's statement catalog: the file `previous`, or,
/// when no such file exists, the one git holds at ref `previous` in the
/// migrations folder `dir` (`git -C <dir> show <ref>:./statements.catalog`).
pub fn previous_catalog(
    previous: &str,
    dir: &str,
) -> std::result::Result<crate::proof::StatementCatalog, Box<dyn std::error::Error + Send + Sync>> {
    use crate::migrate::CATALOG_FILE;
    use crate::proof::StatementCatalog;
    if std::path::Path::new(previous).is_file() {
        return Ok(StatementCatalog::read(previous)?);
    }
    let spec = format!("{previous}:./{CATALOG_FILE}");
    let shown = std::process::Command::new("git")
        .args(["-C", dir, "show", &spec])
        .output()
        .map_err(|e| format!("`{previous}` is no file, and git cannot run: {e}"))?;
    if !shown.status.success() {
        return Err(format!(
            "`{previous}` is neither a catalog file nor a git ref holding {dir}/{CATALOG_FILE}: {}",
            String::from_utf8_lossy(&shown.stderr).trim()
        )
        .into());
    }
    Ok(StatementCatalog::parse(&String::from_utf8_lossy(
        &shown.stdout,
    ))?)
}

/// `[--rows N] [--max-exclusive-ms N]` of `rehearse`.
fn rehearsal_options(
    rest: &[&str],
) -> std::result::Result<crate::proof::RehearsalOptions, Box<dyn std::error::Error + Send + Sync>> {
    let mut options = crate::proof::RehearsalOptions::default();
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a number"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag} needs a number, not {value}"))?;
        match *flag {
            "--rows" => options.rows = u32::try_from(n).map_err(|_| "--rows is too large")?,
            "--max-exclusive-ms" => options.max_exclusive = std::time::Duration::from_millis(n),
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

/// The whole program for an application's `src/bin/migrate.rs`: reads the
/// command line (`--database-url`, then the command), connects, runs the
/// command on `migrations`, prints as it goes, and returns the exit code
/// (2 for a bad command line).
pub fn main(migrations: Result<Migrations>) -> ExitCode {
    main_with(
        std::env::args().skip(1),
        |_| migrations,
        &crate::registered_schemas(),
    )
}

/// [`main`] with the entities `diagram` draws given by the application
/// (`blog_entities::schemas()`, say) rather than found among those linked
/// into the program.
pub fn main_with_entities(
    migrations: Result<Migrations>,
    entities: &[&'static TableSchema],
) -> ExitCode {
    main_with(std::env::args().skip(1), |_| migrations, entities)
}

/// [`main`] for a migrations folder named by `--dir` (default
/// `migrations`), read at run time: the `ordinance-migrate` binary.
pub fn main_from_dir() -> ExitCode {
    main_with(
        std::env::args().skip(1),
        |dir| Migrations::load(dir.unwrap_or("migrations")),
        &crate::registered_schemas(),
    )
}

fn main_with(
    raw: impl IntoIterator<Item = String>,
    load: impl FnOnce(Option<&str>) -> Result<Migrations>,
    entities: &[&'static TableSchema],
) -> ExitCode {
    let args = match parse(raw) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(exit) = without_database(entities, &args.command) {
        return exit;
    }
    if args.command == ["lint"] {
        return match load(args.dir.as_deref()) {
            Ok(migrations) => {
                let lints: Vec<crate::migrate::Lint> = migrations
                    .list()
                    .iter()
                    .flat_map(crate::migrate::lint)
                    .collect();
                for l in &lints {
                    println!("{l}");
                }
                match lints.len() {
                    0 => {
                        println!("no findings: every migration follows the kit's rules");
                        ExitCode::SUCCESS
                    }
                    n => {
                        println!("{n} findings");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("migrate: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: std::result::Result<bool, Box<dyn std::error::Error + Send + Sync>> = runtime
        .block_on(async {
            let command: Vec<&str> = args.command.iter().map(String::as_str).collect();
            if command.is_empty() {
                return Err(USAGE.into());
            }
            let url = args
                .url
                .ok_or("no database: pass --database-url or set DATABASE_URL")?;
            let config: tokio_postgres::Config = url.parse()?;
            let (mut client, connection) = config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            match command.as_slice() {
                ["audit"] => {
                    // Names are checked against the policy the entities were
                    // compiled under.
                    let options = crate::audit::AuditOptions {
                        conventions: conventions_of(entities),
                        ..crate::audit::AuditOptions::default()
                    };
                    let findings = crate::audit::audit(&client, &options).await?;
                    print!("{}", crate::audit::render(&findings));
                    return Ok(!findings.is_empty());
                }
                ["stats"] => {
                    let stats = crate::stats::statement_stats(&client, entities).await?;
                    println!(
                        "{:>12} {:>10} {:>10}  {:<16} statement",
                        "total ms", "calls", "mean ms", "fingerprint"
                    );
                    for s in &stats {
                        println!(
                            "{:>12.1} {:>10} {:>10.3}  {}  {}.{}",
                            s.total_ms, s.calls, s.mean_ms, s.fingerprint, s.entity, s.operation
                        );
                    }
                    return Ok(false);
                }
                ["verify", "--previous", previous] => {
                    let migrations = load(args.dir.as_deref())?;
                    let dir = args.dir.as_deref().unwrap_or("migrations");
                    let proof = verify(&config, &migrations, previous, dir).await?;
                    print!("{proof}");
                    return Ok(!proof.passed());
                }
                ["rehearse", "--previous", previous, rest @ ..] => {
                    let options = rehearsal_options(rest)?;
                    let migrations = load(args.dir.as_deref())?;
                    let dir = args.dir.as_deref().unwrap_or("migrations");
                    let rehearsal =
                        rehearse(&config, migrations, previous, dir, entities, &options).await?;
                    print!("{rehearsal}");
                    return Ok(!rehearsal.passed());
                }
                ["adopt"] => {
                    let adopted =
                        crate::adopt::adopt_under(&client, conventions_of(entities)).await?;
                    print!("{}", adopted.code);
                    if !adopted.sql.is_empty() {
                        eprintln!(
                        "-- run these so the database records the waivers the entities carry:\n{}",
                        adopted.sql
                    );
                    }
                    for (table, why) in &adopted.skipped {
                        eprintln!("left out {table}: {why}");
                    }
                    return Ok(false);
                }
                _ => {}
            }
            // Grants need the entities, not the migrations.
            if let Some(done) = run_grants(entities, &client, &command, &|line: &str| {
                println!("{line}")
            })
            .await
            {
                return done.map(|()| false);
            }
            let migrations = load(args.dir.as_deref())?;
            run_with(entities, migrations, &mut client, &command, |line| {
                println!("{line}")
            })
            .await?;
            Ok(false)
        });
    match result {
        // The audit found something: a failure for CI, with the report out.
        Ok(true) => ExitCode::FAILURE,
        Ok(false) => ExitCode::SUCCESS,
        Err(e) if e.to_string() == USAGE => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("migrate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The commands that read only the entities: `diagram mermaid|dot` and
/// `document [FILE]`; `None` for any other command.
fn without_database(entities: &[&'static TableSchema], command: &[String]) -> Option<ExitCode> {
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    match grants(entities, &command) {
        Some(Ok((statements, false))) => {
            for statement in statements {
                println!("{statement};");
            }
            return Some(ExitCode::SUCCESS);
        }
        Some(Err(usage)) => {
            eprintln!("{usage}");
            return Some(ExitCode::from(2));
        }
        // Applying them needs the database.
        Some(Ok((_, true))) => return None,
        None => {}
    }
    if !matches!(
        command.as_slice(),
        ["diagram", _] | ["document"] | ["document", _]
    ) {
        return None;
    }
    if entities.is_empty() {
        eprintln!(
            "migrate: no entities; run `{}` from the application's own binary \
             (ordinance::cli::main_with_entities)",
            command[0]
        );
        return Some(ExitCode::FAILURE);
    }
    Some(match command.as_slice() {
        ["diagram", "mermaid"] => {
            print!("{}", crate::diagram::mermaid(entities));
            ExitCode::SUCCESS
        }
        ["diagram", "dot"] => {
            print!("{}", crate::diagram::dot(entities));
            ExitCode::SUCCESS
        }
        ["diagram", _] => {
            eprintln!("migrate: diagram formats are `mermaid` and `dot`");
            ExitCode::from(2)
        }
        ["document"] => {
            print!("{}", crate::document::markdown(entities));
            ExitCode::SUCCESS
        }
        [_, file] => match crate::document::check(entities, file, true) {
            Ok(crate::document::DocumentDrift::UpToDate) => {
                println!("{file} is up to date");
                ExitCode::SUCCESS
            }
            Ok(_) => {
                println!("wrote {file}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("migrate: {file}: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    })
}

/// The conventions the application's entities were compiled under (the
/// first entity's; one crate has one policy), or the kit's own.
fn conventions_of(entities: &[&'static TableSchema]) -> &'static crate::schema::Conventions {
    entities
        .first()
        .map_or(&crate::schema::Conventions::DEFAULT, |s| s.conventions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_command_are_told_apart() {
        let args = parse(
            ["--database-url", "postgres://x", "down", "0"]
                .into_iter()
                .map(String::from),
        )
        .expect("parses");
        assert_eq!(args.url.as_deref(), Some("postgres://x"));
        assert_eq!(args.command, ["down", "0"]);
        assert!(parse(["--dir".to_owned()]).is_err());
    }

    #[test]
    fn document_writes_the_file_and_then_finds_it_current() {
        static THINGS: TableSchema = TableSchema {
            schema: None,
            name: "things",
            struct_name: "Thing",
            comment: Some("Things we keep."),
            columns: &[],
            primary_key: "things_pkey",
            foreign_keys: &[],
            checks: &[],
            indexes: &[],
            keysets: &[],
            waivers: &[],
            tenant: false,
            history: false,
            aggregate_root: false,
            outbox: false,
            partitioned: None,
            conventions: &crate::schema::Conventions::DEFAULT,
        };
        let dir = std::env::temp_dir().join(format!("ordinance-cli-doc-{}", std::process::id()));
        let file = dir.join("DATABASE.md").display().to_string();
        let command = vec!["document".to_owned(), file.clone()];
        assert_eq!(without_database(&[], &command), Some(ExitCode::FAILURE));
        assert_eq!(
            without_database(&[&THINGS], &command),
            Some(ExitCode::SUCCESS)
        );
        let written = std::fs::read_to_string(&file).expect("written");
        assert_eq!(written, crate::document::markdown(&[&THINGS]));
        assert!(written.contains("Things we keep."));
        assert_eq!(
            without_database(&[&THINGS], &command),
            Some(ExitCode::SUCCESS)
        );
        assert_eq!(without_database(&[&THINGS], &["status".to_owned()]), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
