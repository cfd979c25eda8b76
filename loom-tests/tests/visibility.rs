//! loom model of visibility (DESIGN §2, invariant 2): the TxnManager's real core decides
//! the order of publishing commit timestamps and moving the watermark; a reader takes a
//! snapshot (one atomic load) and checks which commits it sees. In every interleaving:
//! no commit is visible without every earlier one, and a snapshot sees exactly the
//! commits at or before it — never a commit whose status is not yet published (that
//! would be a transaction seen in part: its versions share one status).
#![cfg(troupe_loom)]
#![allow(clippy::unwrap_used)]

use loom::thread;

use troupe::sync::{Arc, AtomicU64, Ordering};
use troupe::txn::core::{Effect, Input, TxnCore};
use troupe::txn::{CommitTs, TxnId, TxnStatus};

/// The TxnManager shell's publishing, reduced to what visibility depends on: for each
/// effect, publish a status or store the watermark.
fn manager(statuses: [Arc<TxnStatus>; 2], watermark: Arc<AtomicU64>, groups: Vec<Vec<CommitTs>>) {
    let mut core = TxnCore::new(CommitTs(0));
    core.step(Input::Commit { token: 0 });
    core.step(Input::Commit { token: 1 });
    for commits in groups {
        for effect in core.step(Input::Durable { commits, ok: true }) {
            match effect {
                Effect::Publish { token, ts } => statuses[token as usize].commit(ts),
                Effect::Watermark(ts) => watermark.store(ts.0, Ordering::Release),
                // The core failed closed (a group out of order): roll the commit back.
                Effect::Fail { token } => statuses[token as usize].abort(),
                other => panic!("unexpected effect {other:?}"),
            }
        }
    }
}

fn reader(statuses: &[Arc<TxnStatus>; 2], watermark: &AtomicU64) {
    let snapshot = CommitTs(watermark.load(Ordering::Acquire));
    let me = TxnId(99);
    let sees: Vec<bool> = statuses.iter().map(|s| s.visible_to(snapshot, me)).collect();
    assert!(!sees[1] || sees[0], "commit 2 visible without commit 1 (snapshot {snapshot:?})");
    assert_eq!(sees[0], snapshot.0 >= 1, "snapshot {snapshot:?} and commit 1 disagree");
    assert_eq!(sees[1], snapshot.0 >= 2, "snapshot {snapshot:?} and commit 2 disagree");
}

fn model(groups: Vec<Vec<CommitTs>>) {
    loom::model(move || {
        let watermark = Arc::new(AtomicU64::new(0));
        let statuses = [TxnStatus::new(TxnId(1)), TxnStatus::new(TxnId(2))];
        let (w, s, g) = (watermark.clone(), statuses.clone(), groups.clone());
        let m = thread::spawn(move || manager(s, w, g));
        let (w, s) = (watermark.clone(), statuses.clone());
        let r = thread::spawn(move || reader(&s, &w));
        reader(&statuses, &watermark);
        m.join().unwrap();
        r.join().unwrap();
    });
}

#[test]
fn two_commits_in_one_group() {
    model(vec![vec![CommitTs(1), CommitTs(2)]]);
}

#[test]
fn two_commits_in_two_groups() {
    model(vec![vec![CommitTs(1)], vec![CommitTs(2)]]);
}

/// The WAL reports commit 2 durable before commit 1 (a protocol bug): the core fails
/// closed, so neither is ever visible; publishing in the order reported would move the
/// watermark past commit 1 before it is published.
#[test]
fn a_group_out_of_commit_order_is_never_published() {
    model(vec![vec![CommitTs(2)], vec![CommitTs(1)]]);
}
