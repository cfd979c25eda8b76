//! Deadlock detection: a cycle search in the wait-for graph, run when a transaction
//! starts to wait.
//!
//! The wait-for graph has one node per transaction and an edge `A -> B` when A waits
//! for a lock that B holds in a conflicting mode, or that B requested earlier in the
//! same FIFO queue in a conflicting mode (A cannot overtake B). The graph is not
//! stored: [`crate::lock::core::LockTable`] derives a node's edges from its queues on
//! demand, and [`find_cycle`] only needs that successor function, so it is tested here
//! on plain graphs (TiKV keeps its `DetectTable` apart from the thread that hosts it
//! for the same reason).
//!
//! ```text
//!   t1 ──waits for──▶ t2        t3 asks for a lock t1 holds: the new edge t3 -> t1
//!   ▲                  │        closes t3 -> t1 -> t2 -> t3, so t3, the transaction
//!   └──── t3 ◀─────────┘        that was about to wait, is the victim.
//! ```
//!
//! Why checking only the new waiter is enough: the graph is acyclic before every
//! check (each earlier wait was checked, and a victim never waits), and a transaction
//! that does not wait has no outgoing edge, so it cannot be on a cycle. The only other
//! way edges appear is an upgrade queued ahead of later waiters (they now wait for
//! it); that happens when the upgrader starts to wait, so its own check sees them.
//! Grants and releases only move or remove edges.
//!
//! Shortcut: one victim is chosen, always the newcomer; PostgreSQL also picks the
//! process that runs the check. No timer: the check runs at once, not after
//! `deadlock_timeout`.

use std::collections::HashSet;

use crate::error::{Error, ErrorKind};
use crate::lock::target::{LockMode, LockTarget};
use crate::txn::TxnId;

/// Finds a cycle through `start`: the transactions on it in order, starting with
/// `start` (the edge from the last one back to `start` closes it), or `None`.
///
/// `successors(t)` lists the transactions `t` waits for. Depth-first, visiting every
/// node at most once, so the cost is linear in the part of the graph reachable from
/// `start`. The successor order decides which cycle is reported when there are several.
pub fn find_cycle(
    start: TxnId,
    mut successors: impl FnMut(TxnId) -> Vec<TxnId>,
) -> Option<Vec<TxnId>> {
    let mut visited: HashSet<TxnId> = HashSet::from([start]);
    // The current path: each node with the successors still to try.
    let mut path: Vec<(TxnId, std::vec::IntoIter<TxnId>)> =
        vec![(start, successors(start).into_iter())];
    while let Some((_, next)) = path.last_mut() {
        match next.next() {
            Some(t) if t == start => return Some(path.iter().map(|(t, _)| *t).collect()),
            Some(t) => {
                if visited.insert(t) {
                    let succ = successors(t).into_iter();
                    path.push((t, succ));
                }
            }
            None => {
                path.pop();
            }
        }
    }
    None
}

/// One edge of a deadlock cycle, as PostgreSQL reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleEdge {
    /// The waiting process (backend pid).
    pub pid: i32,
    /// The mode it waits for.
    pub mode: LockMode,
    /// What it waits for.
    pub target: LockTarget,
    /// The process it waits for.
    pub blocked_by: i32,
}

/// 40P01 with one DETAIL line per edge, in PostgreSQL's shape:
/// `Process 101 waits for ExclusiveLock on tuple of relation 16385; blocked by process 102.`
pub fn deadlock_error(cycle: &[CycleEdge]) -> Error {
    let detail = cycle
        .iter()
        .map(|e| {
            format!(
                "Process {} waits for {} on {}; blocked by process {}.",
                e.pid,
                e.mode.pg_name(),
                e.target.describe(),
                e.blocked_by
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Error::new(ErrorKind::DeadlockDetected, "deadlock detected")
        .with_detail(detail)
        .with_hint("See server log for query details.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn graph(edges: &[(u64, u64)]) -> impl FnMut(TxnId) -> Vec<TxnId> {
        let mut g: HashMap<u64, Vec<TxnId>> = HashMap::new();
        for &(a, b) in edges {
            g.entry(a).or_default().push(TxnId(b));
        }
        move |t| g.get(&t.0).cloned().unwrap_or_default()
    }

    fn ids(v: &[u64]) -> Vec<TxnId> {
        v.iter().map(|&t| TxnId(t)).collect()
    }

    #[test]
    fn no_edges_no_cycle() {
        assert_eq!(find_cycle(TxnId(1), graph(&[])), None);
    }

    #[test]
    fn two_cycle() {
        assert_eq!(find_cycle(TxnId(1), graph(&[(1, 2), (2, 1)])), Some(ids(&[1, 2])));
    }

    #[test]
    fn three_cycle_behind_a_dead_end() {
        let g = graph(&[(3, 4), (3, 1), (1, 2), (2, 3), (4, 5)]);
        assert_eq!(find_cycle(TxnId(3), g), Some(ids(&[3, 1, 2])));
    }

    #[test]
    fn a_cycle_not_through_start_is_not_reported() {
        // The checked invariant is "no cycle through the newcomer"; 1 <-> 2 would have
        // been caught when it formed.
        assert_eq!(find_cycle(TxnId(3), graph(&[(3, 1), (1, 2), (2, 1)])), None);
    }

    #[test]
    fn diamond_is_visited_once_and_is_not_a_cycle() {
        let g = graph(&[(1, 2), (1, 3), (2, 4), (3, 4)]);
        assert_eq!(find_cycle(TxnId(1), g), None);
    }

    #[test]
    fn error_has_postgres_shape() {
        let target =
            LockTarget::Row { table: crate::catalog::TableId(16385), key: b"k".to_vec().into() };
        let e = deadlock_error(&[
            CycleEdge {
                pid: 101,
                mode: LockMode::Exclusive,
                target: target.clone(),
                blocked_by: 102,
            },
            CycleEdge { pid: 102, mode: LockMode::Exclusive, target, blocked_by: 101 },
        ]);
        assert_eq!(e.kind, ErrorKind::DeadlockDetected);
        assert_eq!(e.message, "deadlock detected");
        assert_eq!(
            e.detail.as_deref(),
            Some(
                "Process 101 waits for ExclusiveLock on tuple of relation 16385; blocked by process 102.\n\
                 Process 102 waits for ExclusiveLock on tuple of relation 16385; blocked by process 101."
            )
        );
        assert_eq!(e.hint.as_deref(), Some("See server log for query details."));
    }
}
