// Keyset orders are chosen by name: two orders cannot share one, one
// `keyset(...)` declares one order, and a pager takes only a declared order.
use ordinance::page::Pager;
use ordinance::prelude::*;

#[derive(Entity)]
#[entity(
    keyset(newest = (created_at desc)),
    keyset(newest = (updated_at desc)),
    keyset(oldest = (created_at asc), updated_at)
)]
pub struct Post {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
#[entity(keyset(newest = (created_at desc)))]
pub struct Note {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {
    let _ = Pager::<Note>::new().map(|p| p.order(NoteOrder::Oldest));
    let _ = Pager::<Note>::new().map(|p| p.order(0));
}
