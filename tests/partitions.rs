//! Key-range partitions under concurrent transactions, through real clients: a table
//! that grows splits into partitions on storage actors of their own while transfers,
//! inserts, rollbacks and snapshot readers run against it, and nobody sees a row twice,
//! misses one, or sees money appear or vanish. The servers here split at 64 keys, so a
//! few thousand rows make dozens of partitions.

mod common;

use common::{code, scalar, TestServer};
use tokio_postgres::error::SqlState;
use troupe::storage::{IndexKind, StorageOptions};

const ACCOUNTS: i64 = 50;
const START: i64 = 100;

fn small(index: IndexKind) -> StorageOptions {
    StorageOptions { index, partition_keys: 64 }
}

/// Waits (up to 10 s) for table `name` to be split into at least `n` partitions: the
/// halves of a split split again on their own actors, after the insert has answered.
async fn split_into(db: &TestServer, name: &str, n: usize) -> usize {
    for _ in 0..1000 {
        if db.partitions(name) >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    db.partitions(name)
}

/// Runs `sql` as one transaction, again while it fails with 40001 or 40P01.
async fn retried(c: &tokio_postgres::Client, sql: &str) {
    loop {
        match c.batch_execute(sql).await {
            Ok(()) => return,
            Err(e)
                if [SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED]
                    .contains(&code(&e)) =>
            {
                c.batch_execute("ROLLBACK").await.unwrap();
            }
            Err(e) => panic!("{sql}: {e:?}"),
        }
    }
}

async fn transfers_while_splitting(index: IndexKind) {
    let db = TestServer::start_storage(None, small(index)).await;
    let setup = db.connect().await;
    setup
        .batch_execute(&format!(
            "CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL, note text);
             CREATE INDEX acct_bal ON acct (bal);
             INSERT INTO acct SELECT g * 100, {START}, 'start' FROM generate_series(1, {ACCOUNTS}) g"
        ))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    // Transfers between the original accounts, whose keys end up spread over the
    // partitions that the inserts below create between them.
    for w in 0..3i64 {
        let c = db.connect().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..60i64 {
                let from = ((w * 17 + i * 7) % ACCOUNTS + 1) * 100;
                let to = ((w * 5 + i * 11 + 3) % ACCOUNTS + 1) * 100;
                retried(
                    &c,
                    &format!(
                        "BEGIN; UPDATE acct SET bal = bal - 1 WHERE id = {from};
                         UPDATE acct SET bal = bal + 1 WHERE id = {to}; COMMIT"
                    ),
                )
                .await;
            }
        }));
    }
    // Growth: zero-balance rows between the accounts, committed and rolled back.
    let grower = db.connect().await;
    tasks.push(tokio::spawn(async move {
        for b in 0..40i64 {
            let values: Vec<String> =
                (0..50i64).map(|j| format!("({}, 0, 'grown')", (j * 97 + b) % 5000 + 1)).collect();
            let sql = format!(
                "BEGIN; INSERT INTO acct VALUES {} ON CONFLICT (id) DO NOTHING; {}",
                values.join(", "),
                if b % 4 == 3 { "ROLLBACK" } else { "COMMIT" }
            );
            grower.batch_execute(&sql).await.unwrap();
        }
    }));
    // Snapshot readers: one REPEATABLE READ transaction sees the same table twice,
    // money is conserved, and no key comes twice in a scan across partitions.
    let reader = db.connect().await;
    let checks = tokio::spawn(async move {
        let mut rounds = 0;
        for _ in 0..40 {
            reader.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
            let q = "SELECT count(*)::text || ' ' || sum(bal)::text FROM acct";
            let first = scalar(&reader, q).await.unwrap();
            let ids = reader.query("SELECT id FROM acct ORDER BY id", &[]).await.unwrap();
            let ids: Vec<i32> = ids.iter().map(|r| r.get(0)).collect();
            let by_index = scalar(&reader, "SELECT count(*) FROM acct WHERE bal >= 0").await;
            let again = scalar(&reader, q).await.unwrap();
            reader.batch_execute("COMMIT").await.unwrap();
            assert_eq!(first, again, "one snapshot, one answer");
            let (count, sum) = first.split_once(' ').unwrap();
            assert_eq!(sum, (ACCOUNTS * START).to_string(), "money is conserved");
            assert_eq!(ids.len().to_string(), count, "the scan saw every row once");
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "in key order, no repeats");
            assert_eq!(by_index.as_deref(), Some(count), "the index agrees");
            rounds += 1;
        }
        rounds
    });
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(checks.await.unwrap(), 40);
    let c = db.connect().await;
    let total = scalar(&c, "SELECT sum(bal) FROM acct").await;
    assert_eq!(total, Some((ACCOUNTS * START).to_string()));
    // The rolled-back batches left nothing: every grown row is one a committed batch
    // inserted (b % 4 != 3).
    let committed: std::collections::BTreeSet<i64> = (0..40i64)
        .filter(|b| b % 4 != 3)
        .flat_map(|b| (0..50i64).map(move |j| (j * 97 + b) % 5000 + 1))
        .filter(|id| id % 100 != 0)
        .collect();
    let grown = scalar(&c, "SELECT count(*) FROM acct WHERE note = 'grown'").await;
    assert_eq!(grown, Some(committed.len().to_string()));
    let parts = split_into(&db, "acct", 8).await;
    assert!(parts >= 8, "the table split ({parts} partitions)");
    db.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_and_snapshots_stay_consistent_while_the_learned_table_splits() {
    if common::reference_pg().is_some() {
        return;
    }
    transfers_while_splitting(IndexKind::Learned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_and_snapshots_stay_consistent_while_the_btree_table_splits() {
    if common::reference_pg().is_some() {
        return;
    }
    transfers_while_splitting(IndexKind::BTree).await;
}

/// A split table survives a restart (it loads split), a UNIQUE index brings it back
/// into one partition and then holds across all its rows, and row locks taken before
/// a split still hold after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_table_restarts_split_and_a_unique_index_sees_every_row() {
    if common::reference_pg().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = small(IndexKind::Learned);
    let db = TestServer::start_storage(Some(dir.path()), options).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, email text);
         INSERT INTO t SELECT g, 'u' || g FROM generate_series(1, 10) g",
    )
    .await
    .unwrap();
    // A row lock taken while the table is one partition...
    let locker = db.connect().await;
    locker.batch_execute("BEGIN; SELECT * FROM t WHERE id = 10 FOR UPDATE").await.unwrap();
    c.batch_execute("INSERT INTO t SELECT g, 'u' || g FROM generate_series(11, 1000) g")
        .await
        .unwrap();
    assert!(split_into(&db, "t", 8).await >= 8);
    // ... still holds after the split moved its row to another partition.
    c.batch_execute("SET lock_timeout = '100ms'").await.unwrap();
    let blocked = c.batch_execute("UPDATE t SET email = 'x' WHERE id = 10").await.unwrap_err();
    assert_eq!(code(&blocked), SqlState::LOCK_NOT_AVAILABLE);
    locker.batch_execute("COMMIT").await.unwrap();
    c.batch_execute("RESET lock_timeout").await.unwrap();
    db.stop().await;

    let db = TestServer::start_storage(Some(dir.path()), options).await;
    assert!(db.partitions("t") >= 8, "loaded split: {}", db.partitions("t"));
    let c = db.connect().await;
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("1000"));
    assert_eq!(scalar(&c, "SELECT max(id) FROM t WHERE id < 500").await.as_deref(), Some("499"));
    c.batch_execute("UPDATE t SET email = 'u1' WHERE id = 999").await.unwrap();
    let dup = c.batch_execute("CREATE UNIQUE INDEX t_email ON t (email)").await.unwrap_err();
    assert_eq!(code(&dup), SqlState::UNIQUE_VIOLATION);
    c.batch_execute("UPDATE t SET email = 'u999' WHERE id = 999").await.unwrap();
    c.batch_execute("CREATE UNIQUE INDEX t_email ON t (email)").await.unwrap();
    assert_eq!(db.partitions("t"), 1, "one partition holds a UNIQUE table");
    let taken = c.batch_execute("INSERT INTO t VALUES (5000, 'u3')").await.unwrap_err();
    assert_eq!(code(&taken), SqlState::UNIQUE_VIOLATION);
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("1000"));
    db.stop().await;
}
