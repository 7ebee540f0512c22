//! Optimistic locking under contention: no update is ever lost.

use ordinance::repo::Repo;
use ordinance::Error;
use ordinance_tests::*;

const TASKS: usize = 16;
const INCREMENTS: i32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_modify_write_loses_no_update() {
    let db = fixture_database().await;
    let client = db.connect().await.expect("connect");
    let repo = Repo::new(&client);
    let org = repo
        .insert(&new_organization("Counter"))
        .await
        .expect("org");
    let task = repo
        .insert(&new_task(org.id, "counter"))
        .await
        .expect("task");

    let mut workers = Vec::new();
    for _ in 0..TASKS {
        let client = db.connect().await.expect("connect");
        let id = task.id;
        workers.push(tokio::spawn(async move {
            let repo = Repo::new(&client);
            let mut conflicts = 0u32;
            for _ in 0..INCREMENTS {
                loop {
                    let mut current: Task = repo.get(id).await.expect("read");
                    current.order += 1;
                    match repo.update(&current).await {
                        Ok(_) => break,
                        Err(Error::StaleVersion {
                            expected, actual, ..
                        }) => {
                            assert!(actual > expected, "the row moved on");
                            conflicts += 1;
                        }
                        Err(other) => panic!("only stale versions may interrupt: {other:?}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for w in workers {
        conflicts += w.await.expect("worker");
    }
    let done: Task = repo.get(task.id).await.expect("read");
    let total = TASKS as i32 * INCREMENTS;
    assert_eq!(done.order, total, "every increment landed exactly once");
    assert_eq!(done.version, total + 1, "one version per successful update");
    println!("{total} increments by {TASKS} tasks, {conflicts} stale-version conflicts retried");
    assert!(
        conflicts > 0,
        "16 tasks on one row must have collided at least once"
    );
}
