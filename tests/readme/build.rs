//! Turns the README's Rust blocks into code the compiler checks.
//!
//! - A block of statements (the tour's `let repo = ...; repo.insert(...)`)
//!   becomes a doctest: the block inside an `async fn` returning a
//!   `Result`, after the context it assumes (`conn`, `repo`, and whatever
//!   an HTML comment `<!-- readme: ... -->` just before the block declares,
//!   invisible on the rendered page). Compiled, not run: the values come
//!   from `ordinance_readme::any()`.
//! - A block of items only (a `#[tokio::test]`, a `fn main`) goes into a
//!   module of its own in `tests/readme.rs`, so its tests compile and run
//!   against the throwaway server like any other test.

use std::fmt::Write as _;
use std::path::PathBuf;

/// One Rust block of the README.
struct Block {
    /// Line of its opening fence, counting from 1.
    line: usize,
    /// What the HTML comment before it declares.
    setup: Vec<String>,
    code: Vec<String>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate();
    let mut setup: Vec<String> = Vec::new();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- readme:") {
            // Up to the closing `-->`, on this line or a later one.
            setup.clear();
            let mut text = rest.to_owned();
            while !text.trim_end().ends_with("-->") {
                match lines.next() {
                    Some((_, more)) => {
                        text.push('\n');
                        text.push_str(more);
                    }
                    None => panic!("README line {}: unclosed <!-- readme:", i + 1),
                }
            }
            let text = text.trim_end().trim_end_matches("-->");
            setup.extend(text.lines().map(str::to_owned));
        } else if trimmed == "```rust" || trimmed == "```rust,ignore" {
            let mut code = Vec::new();
            for (_, line) in lines.by_ref() {
                if line.trim_start().starts_with("```") {
                    break;
                }
                code.push(line.to_owned());
            }
            blocks.push(Block {
                line: i + 1,
                setup: std::mem::take(&mut setup),
                code,
            });
        } else if trimmed.starts_with("```") {
            // Another language's block: skip it, and forget any setup.
            for (_, line) in lines.by_ref() {
                if line.trim_start().starts_with("```") {
                    break;
                }
            }
            setup.clear();
        }
    }
    blocks
}

/// Whether every line at the block's top level starts an item (or is a
/// comment, an attribute or a closing brace): a block to put in a module.
fn only_items(code: &[String]) -> bool {
    const ITEM: &[&str] = &[
        "use ",
        "fn ",
        "async fn ",
        "pub ",
        "struct ",
        "enum ",
        "impl ",
        "mod ",
        "const ",
        "static ",
        "#[",
        "//",
        "}",
        ")",
    ];
    code.iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(char::is_whitespace))
        .all(|l| ITEM.iter().any(|start| l.starts_with(start)))
}

/// The name of the function after the block's first test attribute, or
/// of its first function.
fn module_name(code: &[String]) -> Option<String> {
    let fn_name = |line: &str| {
        let line = line.trim_start();
        let rest = line
            .strip_prefix("async fn ")
            .or_else(|| line.strip_prefix("fn "))?;
        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .map(str::to_owned)
    };
    let after_test = code
        .iter()
        .skip_while(|l| !(l.trim_start().starts_with("#[") && l.contains("test")))
        .find_map(|l| fn_name(l));
    after_test.or_else(|| code.iter().find_map(|l| fn_name(l)))
}

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let readme_path = dir.join("../../README.md");
    println!("cargo:rerun-if-changed={}", readme_path.display());
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let mut doctests = String::new();
    let mut modules = String::new();
    for block in blocks(&readme) {
        let line = block.line;
        if only_items(&block.code) {
            assert!(
                block.setup.is_empty(),
                "README line {line}: a block of items takes no <!-- readme: --> setup"
            );
            // Named after the block's test (or its first function), so the
            // names, and the bless commands they appear in, survive edits
            // above the block.
            let name = module_name(&block.code).unwrap_or_else(|| format!("line_{line}"));
            writeln!(modules, "/// README line {line}.").unwrap();
            writeln!(modules, "pub mod readme_{name} {{").unwrap();
            writeln!(modules, "#![allow(dead_code, unused_imports)]").unwrap();
            writeln!(modules, "use ordinance_readme::*;").unwrap();
            for l in &block.code {
                writeln!(modules, "{l}").unwrap();
            }
            writeln!(modules, "}}").unwrap();
        } else {
            writeln!(doctests, "README line {line}:\n").unwrap();
            writeln!(doctests, "```rust,no_run").unwrap();
            writeln!(doctests, "# #![allow(unused)]").unwrap();
            writeln!(doctests, "# use ordinance_readme::*;").unwrap();
            writeln!(
                doctests,
                "# async fn readme() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {{"
            )
            .unwrap();
            writeln!(
                doctests,
                "# let mut conn: ordinance::exec::Connection = any();"
            )
            .unwrap();
            writeln!(doctests, "# let repo = ordinance::repo::Repo::new(&conn);").unwrap();
            for l in &block.setup {
                writeln!(doctests, "# {l}").unwrap();
            }
            for l in &block.code {
                // A line that starts with `#` would be hidden: `##` keeps it.
                if l.trim_start().starts_with("# ") || l.trim() == "#" {
                    writeln!(doctests, "#{l}").unwrap();
                } else {
                    writeln!(doctests, "{l}").unwrap();
                }
            }
            writeln!(doctests, "# Ok(())\n# }}\n# fn main() {{}}").unwrap();
            writeln!(doctests, "```\n").unwrap();
        }
    }
    // The guide's chapters (rustdoc chapters of `ordinance`, whose own
    // doctests compile their blocks): their blocks of items — tests, a
    // binary's `main` — run here, against a real PostgreSQL, with the
    // lines rustdoc hides left out.
    let guide = dir.join("../../runtime/src/guide");
    println!("cargo:rerun-if-changed={}", guide.display());
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(&guide)
        .expect("runtime/src/guide")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    chapters.sort();
    for chapter in chapters {
        println!("cargo:rerun-if-changed={}", chapter.display());
        let text = std::fs::read_to_string(&chapter).expect("chapter");
        let stem = chapter
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("chapter name")
            .to_owned();
        for block in blocks(&text) {
            let code: Vec<String> = block
                .code
                .into_iter()
                .filter(|l| !(l.trim_start().starts_with("# ") || l.trim() == "#"))
                .collect();
            if !only_items(&code) {
                continue;
            }
            let name = module_name(&code).unwrap_or_else(|| format!("line_{}", block.line));
            writeln!(
                modules,
                "/// The guide's `{stem}` chapter, line {}.",
                block.line
            )
            .unwrap();
            writeln!(modules, "pub mod guide_{stem}_{name} {{").unwrap();
            writeln!(modules, "#![allow(dead_code, unused_imports)]").unwrap();
            writeln!(modules, "use ordinance_readme::*;").unwrap();
            for l in &code {
                writeln!(modules, "{l}").unwrap();
            }
            writeln!(modules, "}}").unwrap();
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    std::fs::write(out.join("readme_doctests.md"), doctests).expect("write doctests");
    std::fs::write(out.join("readme_items.rs"), modules).expect("write items");
}
