use ordinance::exec::Connection;

#[ordinance::test(schema = "db.sql")]
async fn from_a_file(conn: Connection) {
    let _ = conn;
}

fn main() {}
