use ordinance::exec::Connection;
use ordinance::pool::Pool;

#[ordinance::test(entities)]
async fn two_ways_in(conn: Connection, pool: Pool) {
    let _ = (conn, pool);
}

fn main() {}
