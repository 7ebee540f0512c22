use ordinance::exec::Connection;

#[ordinance::test]
fn lists_nothing(conn: Connection) {
    let _ = conn;
}

fn main() {}
