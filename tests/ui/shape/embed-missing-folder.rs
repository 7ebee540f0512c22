// embed_migrations! reads the folder at compile time, relative to Cargo.toml.
fn main() {
    let _ = ordinance::embed_migrations!("no_such_migrations");
}
