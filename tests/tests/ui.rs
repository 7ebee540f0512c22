//! Compile-time rules: every convention breach fails the build with a message
//! at the offending item; every valid entity compiles and its schema is right.

/// Straight to the process's stderr (the harness captures `eprintln!`), so
/// CI shows what the silent minute of building is.
fn announce(what: &str, pattern: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "ui: building the {what} cases ({pattern}; their dependencies first, about a minute \
         on a cold machine), then checking them one by one"
    );
}

#[test]
fn compile_fail() {
    announce("compile-fail", "ui/*/*.rs");
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}

#[test]
fn compile_pass() {
    announce("compile-pass", "pass/*.rs");
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
}
