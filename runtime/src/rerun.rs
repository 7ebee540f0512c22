//! The command that runs the current test again, for a check's failure
//! message to print.

/// `<env> cargo test -p <package> --test <binary> <test> -- --exact`: the
/// package (`CARGO_PKG_NAME`), the test binary (from the running
/// executable's name) and the test (the harness names each test's thread
/// after it), as far as the environment tells; `env` is the variables set
/// in front (`ORDINANCE_BLESS=1`).
pub(crate) fn rerun_command(env: &str) -> String {
    let mut command = format!("{env} cargo test");
    let package = std::env::var("CARGO_PKG_NAME").ok();
    if let Some(package) = &package {
        command.push_str(&format!(" -p {package}"));
    }
    // Test binaries are `<target name>-<hash>`.
    let binary = std::env::current_exe().ok().and_then(|exe| {
        let stem = exe.file_stem()?.to_str()?.to_owned();
        let (name, hash) = stem.rsplit_once('-')?;
        (hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| name.to_owned())
    });
    match (&binary, &package) {
        (Some(b), Some(p)) if *b == p.replace('-', "_") => command.push_str(" --lib"),
        (Some(b), _) => command.push_str(&format!(" --test {b}")),
        _ => {}
    }
    if let Some(test) = std::thread::current().name().filter(|n| *n != "main") {
        // A test of a module is named `module::test`.
        command.push_str(&format!(" {test} -- --exact"));
    }
    command
}
