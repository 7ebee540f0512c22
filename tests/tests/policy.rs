//! The team's policy in `Cargo.toml`, as a crate of the team's own sees it.
//!
//! trybuild writes a `Cargo.toml` of its own for each case, without the
//! package's metadata, so each case here is a small crate in
//! `tests/policy/<case>/` with the policy in its manifest (and the
//! entities of `tests/policy/entities.rs` unless it has its own). Each is copied to
//! `target/policy-tests/`, given the workspace's `Cargo.lock` (the same
//! dependency versions, nothing to download) and checked with `cargo check`;
//! the errors must match `expected.stderr` beside it, read by eye when
//! written (`ORDINANCE_BLESS=1` writes them). Then one workspace shows that
//! changing the policy in the workspace's manifest compiles the entities
//! again.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn scratch() -> PathBuf {
    root().join("target/policy-tests")
}

/// `cargo check` in `dir`; its success and its errors, normalized.
fn check(dir: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["check", "--quiet", "--color", "never", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", scratch().join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.starts_with("error: could not compile") && !l.starts_with("warning: build failed")
        })
        .collect();
    let text = errors
        .join("\n")
        .replace(&dir.display().to_string(), "$DIR");
    (out.status.success(), text.trim_end().to_owned() + "\n")
}

/// A copy of the case to build, depending on this workspace's runtime.
fn copy_case(case: &str) -> PathBuf {
    let from = root().join("tests/policy").join(case);
    let to = scratch().join("cases").join(case);
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(to.join("src")).expect("mkdir");
    let manifest = std::fs::read_to_string(from.join("Cargo.toml"))
        .expect("the case's manifest")
        .replace(
            "path = \"../../../runtime\"",
            &format!("path = {:?}", root().join("runtime").display().to_string()),
        );
    std::fs::write(to.join("Cargo.toml"), manifest).expect("write");
    // A case's own entities, or the ones every case shares.
    let entities = Some(from.join("src/lib.rs"))
        .filter(|own| own.is_file())
        .unwrap_or_else(|| root().join("tests/policy/entities.rs"));
    std::fs::copy(entities, to.join("src/lib.rs")).expect("copy");
    std::fs::copy(root().join("Cargo.lock"), to.join("Cargo.lock")).expect("copy the lock file");
    to
}

#[test]
fn each_policy_case_fails_as_expected() {
    // Every folder of `tests/policy/` is a case.
    let mut cases: Vec<String> = std::fs::read_dir(root().join("tests/policy"))
        .expect("the cases")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "cases: {cases:?}");
    let bless = std::env::var_os("ORDINANCE_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = copy_case(case);
        let (ok, errors) = check(&dir);
        assert!(
            !ok,
            "{case}: the crate compiled under a policy that must fail:\n{errors}"
        );
        let expected_file = root()
            .join("tests/policy")
            .join(case)
            .join("expected.stderr");
        if bless {
            std::fs::write(&expected_file, &errors).expect("write expected.stderr");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
        if expected != errors {
            failures.push(format!(
                "{case}: the errors changed.\n--- expected ({})\n{expected}--- got\n{errors}",
                expected_file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nReview, then: ORDINANCE_BLESS=1 cargo test -p ordinance-tests --test policy",
        failures.join("\n")
    );
}

#[test]
fn changing_the_workspace_policy_compiles_the_entities_again() {
    let dir = scratch().join("rebuild");
    let _ = std::fs::remove_dir_all(&dir);
    let member = dir.join("app");
    std::fs::create_dir_all(member.join("src")).expect("mkdir");
    let workspace = |preset: &str| {
        format!(
            "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n\
             [workspace.metadata.ordinance.naming]\npreset = \"{preset}\"\n"
        )
    };
    std::fs::write(dir.join("Cargo.toml"), workspace("prefixed")).expect("write");
    std::fs::write(
        member.join("Cargo.toml"),
        format!(
            "[package]\nname = \"policy-rebuild\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nordinance = {{ path = {:?} }}\n",
            root().join("runtime").display().to_string()
        ),
    )
    .expect("write");
    std::fs::copy(
        root().join("tests/policy/entities.rs"),
        member.join("src/lib.rs"),
    )
    .expect("copy");
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy the lock file");

    let (ok, errors) = check(&dir);
    assert!(ok, "a valid workspace policy compiles:\n{errors}");
    // Only the workspace's manifest changes: nothing cargo itself watches
    // for this package, so only the derive's tracking can notice.
    std::fs::write(dir.join("Cargo.toml"), workspace("prefixd")).expect("write");
    let (ok, errors) = check(&dir);
    assert!(!ok, "the changed policy was not read again");
    assert!(
        errors.contains("`workspace.metadata.ordinance.naming.preset` has no preset \"prefixd\""),
        "{errors}"
    );
    assert!(errors.contains("did you mean \"prefixed\"?"), "{errors}");
    std::fs::write(dir.join("Cargo.toml"), workspace("sqlalchemy")).expect("write");
    let (ok, errors) = check(&dir);
    assert!(ok, "fixed again, it compiles:\n{errors}");
}
