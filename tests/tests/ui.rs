//! Compile-time rules: every convention breach fails the build with a message
//! at the offending item; every valid entity compiles and its schema is right.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}

#[test]
fn compile_pass() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
}
