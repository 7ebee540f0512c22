//! `ordinance-migrate`: applies, reverts and inspects a migrations folder.
//!
//! ```text
//! ordinance-migrate [--dir migrations] [--database-url URL] status
//! ordinance-migrate [...] up         apply every pending migration
//! ordinance-migrate [...] dry-run    print what `up` would run
//! ordinance-migrate [...] down VERSION
//!                                    revert migrations newer than VERSION (0: all)
//! ```
//!
//! The database comes from `--database-url` or `DATABASE_URL`. Writing
//! migrations needs the entities, so it happens in the application's tests
//! (`ordinance::migrate::assert_up_to_date` with `ORDINANCE_BLESS=<name>`).

use std::process::ExitCode;

use ordinance::migrate::Migrations;

const USAGE: &str = "usage: ordinance-migrate [--dir DIR] [--database-url URL] <status | up | dry-run | down VERSION>";

struct Args {
    dir: String,
    url: Option<String>,
    command: Vec<String>,
}

fn parse(mut raw: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        dir: "migrations".to_owned(),
        url: std::env::var("DATABASE_URL").ok(),
        command: Vec::new(),
    };
    while let Some(arg) = raw.next() {
        match arg.as_str() {
            "--dir" => args.dir = raw.next().ok_or("--dir needs a folder")?,
            "--database-url" => args.url = Some(raw.next().ok_or("--database-url needs a URL")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => args.command.push(arg),
        }
    }
    Ok(args)
}

async fn run(args: Args) -> Result<String, Box<dyn std::error::Error>> {
    let migrations = Migrations::load(&args.dir)?;
    let url = args
        .url
        .ok_or("no database: pass --database-url or set DATABASE_URL")?;
    let config: ordinance::deps::tokio_postgres::Config = url.parse()?;
    let (mut client, connection) = config
        .connect(ordinance::deps::tokio_postgres::NoTls)
        .await?;
    tokio::spawn(connection);
    let command: Vec<&str> = args.command.iter().map(String::as_str).collect();
    let mut out = String::new();
    match command.as_slice() {
        ["status"] => {
            let pending = migrations.pending(&client).await?;
            for m in migrations.list() {
                let state = if pending.iter().any(|p| p.version == m.version) {
                    "pending"
                } else {
                    "applied"
                };
                out.push_str(&format!("{state:<8} {}_{}\n", m.version, m.name));
            }
            out.push_str(&format!(
                "{} applied, {} pending\n",
                migrations.list().len() - pending.len(),
                pending.len()
            ));
        }
        ["up"] => {
            let applied = migrations.up(&mut client).await?;
            for a in &applied {
                out.push_str(&format!(
                    "applied  {}_{} in {} ms\n",
                    a.version,
                    a.name,
                    a.duration.as_millis()
                ));
            }
            out.push_str(&format!("{} applied\n", applied.len()));
        }
        ["dry-run"] => out = migrations.dry_run(&client).await?,
        ["down", version] => {
            let target: i64 = version
                .parse()
                .map_err(|_| format!("not a version: {version}"))?;
            let reverted = migrations.down_to(&mut client, target).await?;
            for a in &reverted {
                out.push_str(&format!("reverted {}_{}\n", a.version, a.name));
            }
            out.push_str(&format!("{} reverted\n", reverted.len()));
        }
        _ => return Err(USAGE.into()),
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ordinance-migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ordinance-migrate: {e}");
            ExitCode::FAILURE
        }
    }
}
