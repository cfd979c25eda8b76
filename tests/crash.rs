//! Crash recovery of the real binary (DESIGN.md §2, invariant 6): after a SIGKILL,
//! every acknowledged commit is present and no partial transaction is.
//!
//! Setup: `troupe serve` on a fresh data directory, as a child process. Two tables:
//! * `ids (id int primary key, worker int)`: [`INSERTERS`] connections insert unique
//!   ids in autocommit;
//! * `accounts (id int primary key, balance int)` plus `transfers (id int primary key,
//!   src int, dst int, amount int)`: [`TRANSFERRERS`] connections move money between
//!   two accounts and log the move, all in one explicit transaction.
//!
//! Each worker records what the server acknowledged (an insert's `INSERT 0 1`, a
//! transfer's `COMMIT`). Once enough has been acknowledged, the child is SIGKILLed with
//! the workers still in flight, then restarted on the same directory. Expected:
//! * every acknowledged id and every acknowledged transfer is there;
//! * each account's balance is its start balance plus the transfers present (whatever
//!   they are: unacknowledged ones may or may not have survived), so no transfer
//!   survived in part, and the total is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

const INSERTERS: u64 = 3;
const TRANSFERRERS: u64 = 2;
const ACCOUNTS: i64 = 4;
const START_BALANCE: i64 = 1000;
/// Acknowledged commits to wait for before the kill (inserts and transfers together).
const ACKED_BEFORE_KILL: u64 = 2000;
/// Give up waiting for them after this long, and kill anyway.
const MAX_WAIT: Duration = Duration::from_secs(8);

/// The server child; killed when dropped, so that a failing assert stops it too.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_troupe"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn troupe");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the server's first line");
        let port = line
            .trim()
            .strip_prefix("troupe listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from troupe: {line:?}"));
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server { child, port }
    }

    async fn connect(&self) -> Client {
        let (client, connection) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .dbname("postgres")
            .connect(NoTls)
            .await
            .expect("connect to troupe");
        tokio::spawn(connection);
        client
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    fn kill(&mut self) {
        self.child.kill().expect("kill troupe");
        self.child.wait().expect("reap troupe");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("troupe-crash-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The rows of a simple query, as text.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).expect("no NULL").to_string()).collect())
            }
            _ => None,
        })
        .collect()
}

#[derive(Default)]
struct Acked {
    ids: Mutex<Vec<i64>>,
    /// Transfer id → (src, dst, amount).
    transfers: Mutex<BTreeMap<i64, (i64, i64, i64)>>,
    count: AtomicU64,
}

/// Autocommit inserts of ids `worker, worker + INSERTERS, …` until the connection dies.
async fn inserter(client: Client, worker: u64, acked: Arc<Acked>) {
    for n in 0.. {
        let id = (n * INSERTERS + worker) as i64;
        let sql = format!("INSERT INTO ids (id, worker) VALUES ({id}, {worker})");
        if client.simple_query(&sql).await.is_err() {
            return; // the server is gone
        }
        acked.ids.lock().unwrap().push(id);
        acked.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Transfers in explicit transactions until the connection dies. Ids are unique per
/// worker. A transfer that fails while the server lives (a deadlock victim, say) was
/// rolled back; one that fails at the kill is unknown.
async fn transferrer(client: Client, worker: u64, acked: Arc<Acked>, killed: Arc<AtomicBool>) {
    for n in 0u64.. {
        let id = (n * TRANSFERRERS + worker) as i64;
        let src = (n as i64 + worker as i64) % ACCOUNTS + 1;
        let dst = (src + (n as i64 / ACCOUNTS) % (ACCOUNTS - 1)) % ACCOUNTS + 1; // never src
        let amount = (n as i64 * 7 + worker as i64) % 50 + 1;
        let (first, second) = (src.min(dst), src.max(dst)); // one lock order: no deadlock
        let (d_first, d_second) = if first == src { (-amount, amount) } else { (amount, -amount) };
        let sql = format!(
            "BEGIN; \
             UPDATE accounts SET balance = balance + {d_first} WHERE id = {first}; \
             UPDATE accounts SET balance = balance + {d_second} WHERE id = {second}; \
             INSERT INTO transfers (id, src, dst, amount) VALUES ({id}, {src}, {dst}, {amount}); \
             COMMIT;"
        );
        match client.simple_query(&sql).await {
            Ok(_) => {
                acked.transfers.lock().unwrap().insert(id, (src, dst, amount));
                acked.count.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) if client.is_closed() || killed.load(Ordering::SeqCst) => return,
            Err(e) => panic!("transfer {id} failed while the server was up: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_sigkill() {
    let started = Instant::now();
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0);

    let setup = server.connect().await;
    setup
        .batch_execute(
            "CREATE TABLE ids (id int PRIMARY KEY, worker int); \
             CREATE TABLE accounts (id int PRIMARY KEY, balance int); \
             CREATE TABLE transfers (id int PRIMARY KEY, src int, dst int, amount int);",
        )
        .await
        .expect("create tables");
    for id in 1..=ACCOUNTS {
        setup
            .batch_execute(&format!(
                "INSERT INTO accounts (id, balance) VALUES ({id}, {START_BALANCE})"
            ))
            .await
            .expect("insert account");
    }

    let acked = Arc::new(Acked::default());
    let killed = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..INSERTERS {
        let client = server.connect().await;
        workers.push(tokio::spawn(inserter(client, w, acked.clone())));
    }
    for w in 0..TRANSFERRERS {
        let client = server.connect().await;
        workers.push(tokio::spawn(transferrer(client, w, acked.clone(), killed.clone())));
    }

    let wait_from = Instant::now();
    while acked.count.load(Ordering::Relaxed) < ACKED_BEFORE_KILL && wait_from.elapsed() < MAX_WAIT
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        workers.iter().all(|w| !w.is_finished()),
        "a worker stopped before the kill (see its panic)"
    );
    killed.store(true, Ordering::SeqCst);
    server.kill();
    for w in workers {
        w.await.expect("worker ended cleanly");
    }
    drop(setup);
    let ids: BTreeSet<i64> = acked.ids.lock().unwrap().iter().copied().collect();
    let transfers = acked.transfers.lock().unwrap().clone();
    assert!(!ids.is_empty() && !transfers.is_empty(), "nothing was acknowledged before the kill");

    let server = Server::start(&dir.0);
    let client = server.connect().await;

    let present: BTreeSet<i64> =
        rows(&client, "SELECT id FROM ids").await.iter().map(|r| r[0].parse().unwrap()).collect();
    let lost: Vec<_> = ids.difference(&present).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged inserts lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );

    let logged: BTreeMap<i64, (i64, i64, i64)> =
        rows(&client, "SELECT id, src, dst, amount FROM transfers")
            .await
            .iter()
            .map(|r| {
                let n: Vec<i64> = r.iter().map(|v| v.parse().unwrap()).collect();
                (n[0], (n[1], n[2], n[3]))
            })
            .collect();
    for (id, transfer) in &transfers {
        assert_eq!(logged.get(id), Some(transfer), "acknowledged transfer {id} lost or changed");
    }

    let mut expected: BTreeMap<i64, i64> = (1..=ACCOUNTS).map(|a| (a, START_BALANCE)).collect();
    for (src, dst, amount) in logged.values() {
        *expected.get_mut(src).unwrap() -= amount;
        *expected.get_mut(dst).unwrap() += amount;
    }
    let balances: BTreeMap<i64, i64> = rows(&client, "SELECT id, balance FROM accounts")
        .await
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(
        balances, expected,
        "balances disagree with the transfers present: a transfer survived in part"
    );
    assert_eq!(balances.values().sum::<i64>(), START_BALANCE * ACCOUNTS);

    eprintln!(
        "crash test: {} inserts and {} transfers acknowledged before the kill; \
         {} ids and {} transfers after recovery; {:.1} s",
        ids.len(),
        transfers.len(),
        present.len(),
        logged.len(),
        started.elapsed().as_secs_f64()
    );
}
