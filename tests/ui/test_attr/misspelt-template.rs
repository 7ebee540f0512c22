use ordinance::exec::Connection;

#[ordinance::test(entites)]
async fn from_a_file(conn: Connection) {
    let _ = conn;
}

fn main() {}
