//! The lock table: the LockManager's decisions as a plain state machine.
//!
//! [`LockTable::step`] takes one [`Input`] and returns the [`Effect`]s it causes, in
//! order. No actix, tokio, clock or channel in here: the actor shell
//! ([`crate::lock::actor`]), the golden scripts (`tests/golden/lock/`) and the loom
//! models (`loom-tests/tests/locks.rs`) all drive this same code.
//!
//! ```text
//!  LockTable
//!   locks:   target ──▶ LockQueue { holders: [t1 S, t4 S], waiters: [t2 X, t3 S] }
//!   held:    txn    ──▶ [targets it holds, in grant order]     (for ReleaseAll)
//!   waiting: txn    ──▶ target it waits for (at most one)      (for CancelWait, graph)
//! ```
//!
//! Rules:
//! * Re-entrant: a request for a target the transaction already holds in the same or
//!   a stronger mode is granted at once, whatever the queue holds.
//! * FIFO, no barging: any other request waits when it conflicts with a holder or with
//!   an earlier waiter. On every release (and every removed wait) waiters are granted
//!   from the queue head while they are compatible with the holders, so a run of
//!   Shared waiters is granted together and stops at the first one that conflicts.
//! * Upgrade (holds Shared, asks Exclusive): granted at once when it is the only
//!   holder; otherwise it waits for the other holders only, queued ahead of ordinary
//!   waiters (behind earlier upgrades). Queuing it at the tail would deadlock it with
//!   any Exclusive waiter already queued behind its own Shared lock.
//! * Deadlock: checked when a transaction starts to wait ([`crate::lock::deadlock`]);
//!   the newcomer is the victim, fails with 40P01 and keeps its other locks.
//! * NoWait fails with 55P03 and SkipLocked answers `Skipped` instead of waiting.
//! * Every Acquire gets exactly one answer (Granted, Skipped or Failed), at once or in
//!   a later step, unless its wait is removed by ReleaseAll of the same transaction
//!   (the session gave up on it): then it gets none.
//!
//! Not here: lock_timeout, which the session enforces around its wait (it withdraws
//! the wait with `CancelWait` when the time is up, as for a CancelRequest). Not yet:
//! PostgreSQL's finer table lock modes, fairness across targets.

use std::collections::{HashMap, VecDeque};

use crate::error::{Error, ErrorKind};
use crate::lock::deadlock::{deadlock_error, find_cycle, CycleEdge};
use crate::lock::target::{LockMode, LockTarget, WaitPolicy};
use crate::txn::TxnId;

/// A request to the lock table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `txn` wants `target` in `mode`. Precondition: `txn` is not already waiting
    /// (a second request while waiting is answered `Failed` with an internal error and
    /// leaves the first wait alone).
    Acquire {
        /// The requesting transaction.
        txn: TxnId,
        /// Its session's backend pid, for deadlock reports.
        pid: i32,
        /// What it wants to lock.
        target: LockTarget,
        /// How strongly.
        mode: LockMode,
        /// What to do when the lock is not free.
        wait: WaitPolicy,
    },
    /// `txn` ended (commit or rollback): release its locks and drop its wait, if any.
    ReleaseAll {
        /// The ending transaction.
        txn: TxnId,
    },
    /// `txn` gives up one lock it holds: an advisory unlock, or ROLLBACK TO SAVEPOINT
    /// ending a subtransaction whose own lock it held. Waiters it was holding up are
    /// woken. Nothing if it does not hold it.
    Release {
        /// The holder.
        txn: TxnId,
        /// What it releases.
        target: LockTarget,
    },
    /// Fail `txn`'s pending wait with 57014; nothing if it is not waiting.
    CancelWait {
        /// The transaction whose statement is canceled.
        txn: TxnId,
    },
}

/// An answer to an earlier (or the current) [`Input::Acquire`] of `txn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `txn` now holds what it asked for.
    Granted {
        /// The transaction that got the lock.
        txn: TxnId,
    },
    /// The lock was not free and `txn` asked for SKIP LOCKED.
    Skipped {
        /// The transaction whose request was skipped.
        txn: TxnId,
    },
    /// `txn`'s request failed: 40P01 deadlock, 55P03 NOWAIT, 57014 canceled.
    Failed {
        /// The transaction whose request failed.
        txn: TxnId,
        /// Why, ready for the client.
        error: Error,
    },
}

impl Effect {
    /// The transaction this effect answers.
    pub fn txn(&self) -> TxnId {
        match self {
            Effect::Granted { txn } | Effect::Skipped { txn } | Effect::Failed { txn, .. } => *txn,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Holder {
    txn: TxnId,
    mode: LockMode,
}

#[derive(Clone, Copy, Debug)]
struct Waiter {
    txn: TxnId,
    pid: i32,
    mode: LockMode,
}

/// Holders and FIFO waiters of one target. Removed from the table when both are empty.
#[derive(Default, Debug)]
struct LockQueue {
    holders: Vec<Holder>,
    waiters: VecDeque<Waiter>,
}

impl LockQueue {
    fn held_mode(&self, txn: TxnId) -> Option<LockMode> {
        self.holders.iter().find(|h| h.txn == txn).map(|h| h.mode)
    }

    /// True when `txn` may hold `mode` next to the current holders.
    fn fits_holders(&self, txn: TxnId, mode: LockMode) -> bool {
        self.holders.iter().all(|h| h.txn == txn || h.mode.compatible_with(mode))
    }
}

/// The lock table. See the module doc for the rules.
#[derive(Default, Debug)]
pub struct LockTable {
    locks: HashMap<LockTarget, LockQueue>,
    held: HashMap<TxnId, Vec<LockTarget>>,
    waiting: HashMap<TxnId, LockTarget>,
}

impl LockTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one input; returns what it causes, in order. Never panics.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut effects = Vec::new();
        match input {
            Input::Acquire { txn, pid, target, mode, wait } => {
                self.acquire(txn, pid, target, mode, wait, &mut effects)
            }
            Input::ReleaseAll { txn } => self.release_all(txn, &mut effects),
            Input::Release { txn, target } => {
                if let Some(held) = self.held.get_mut(&txn) {
                    held.retain(|t| *t != target);
                    if held.is_empty() {
                        self.held.remove(&txn);
                    }
                }
                if let Some(q) = self.locks.get_mut(&target) {
                    q.holders.retain(|h| h.txn != txn);
                }
                self.wake(&target, &mut effects);
            }
            Input::CancelWait { txn } => {
                if self.waiting.contains_key(&txn) {
                    let error = Error::new(
                        ErrorKind::QueryCanceled,
                        "canceling statement due to user request",
                    );
                    effects.push(Effect::Failed { txn, error });
                    self.remove_wait(txn, &mut effects);
                }
            }
        }
        effects
    }

    fn acquire(
        &mut self,
        txn: TxnId,
        pid: i32,
        target: LockTarget,
        mode: LockMode,
        wait: WaitPolicy,
        effects: &mut Vec<Effect>,
    ) {
        if self.waiting.contains_key(&txn) {
            let error = Error::internal(format!("transaction {txn} already waits for a lock"));
            effects.push(Effect::Failed { txn, error });
            return;
        }
        let queue = self.locks.entry(target.clone()).or_default();
        let held = queue.held_mode(txn);
        if held.is_some_and(|h| h.covers(mode)) {
            effects.push(Effect::Granted { txn });
            return;
        }
        let upgrade = held.is_some();
        // An upgrader's conflicting waiters are earlier upgraders, which are holders.
        let blocked = !queue.fits_holders(txn, mode)
            || (!upgrade && queue.waiters.iter().any(|w| !w.mode.compatible_with(mode)));
        #[cfg(feature = "mutate-grant-conflicting-lock")]
        // MUTATION (loom-tests/mutations.sh): grant whatever the holders hold.
        let blocked = blocked && queue.holders.is_empty();
        if !blocked {
            if let Some(h) = queue.holders.iter_mut().find(|h| h.txn == txn) {
                h.mode = mode;
            } else {
                queue.holders.push(Holder { txn, mode });
                self.held.entry(txn).or_default().push(target);
            }
            effects.push(Effect::Granted { txn });
            return;
        }
        match wait {
            WaitPolicy::NoWait => {
                let message = format!("could not obtain lock on {}", target.noun());
                let error = Error::new(ErrorKind::LockNotAvailable, message);
                effects.push(Effect::Failed { txn, error });
            }
            WaitPolicy::SkipLocked => effects.push(Effect::Skipped { txn }),
            WaitPolicy::Block => {
                let at = if upgrade {
                    let holders = &queue.holders;
                    let is_upgrader = |w: &Waiter| holders.iter().any(|h| h.txn == w.txn);
                    queue
                        .waiters
                        .iter()
                        .position(|w| !is_upgrader(w))
                        .unwrap_or(queue.waiters.len())
                } else {
                    queue.waiters.len()
                };
                queue.waiters.insert(at, Waiter { txn, pid, mode });
                self.waiting.insert(txn, target.clone());
                #[cfg(feature = "mutate-no-deadlock-victim")]
                // MUTATION (loom-tests/mutations.sh): never look for a cycle, so a
                // deadlock has no victim.
                return;
                if let Some(cycle) = find_cycle(txn, |t| self.blockers(t)) {
                    let error = deadlock_error(&self.cycle_edges(&cycle));
                    // Back to the state before this request, which was stable: no wake.
                    self.waiting.remove(&txn);
                    if let Some(q) = self.locks.get_mut(&target) {
                        q.waiters.retain(|w| w.txn != txn);
                    }
                    effects.push(Effect::Failed { txn, error });
                }
            }
        }
    }

    /// The transactions `t` waits for, as edges of the wait-for graph.
    ///
    /// Not every edge: an earlier Exclusive waiter E itself waits for every holder and
    /// every waiter ahead of it, so the scan stops at the nearest one. What stays
    /// reachable is the same, so the cycle search finds the same cycles, and every
    /// edge it reports is a real one. This keeps a hot row with a long queue of
    /// FOR UPDATE waiters at one edge per waiter instead of a quadratic graph.
    fn blockers(&self, t: TxnId) -> Vec<TxnId> {
        let Some(queue) = self.waiting.get(&t).and_then(|target| self.locks.get(target)) else {
            return Vec::new();
        };
        let Some(pos) = queue.waiters.iter().position(|w| w.txn == t) else {
            return Vec::new();
        };
        let mode = queue.waiters[pos].mode;
        let mut out = Vec::new();
        for w in queue.waiters.range(..pos).rev() {
            if !w.mode.compatible_with(mode) {
                out.push(w.txn);
                if w.mode == LockMode::Exclusive {
                    return out;
                }
            }
        }
        out.extend(
            queue
                .holders
                .iter()
                .filter(|h| h.txn != t && !h.mode.compatible_with(mode))
                .map(|h| h.txn),
        );
        out
    }

    fn waiter(&self, t: TxnId) -> Option<(&LockTarget, Waiter)> {
        let target = self.waiting.get(&t)?;
        let w = self.locks.get(target)?.waiters.iter().find(|w| w.txn == t)?;
        Some((target, *w))
    }

    /// The report of `cycle` (every member waits, so every member has a waiter entry).
    fn cycle_edges(&self, cycle: &[TxnId]) -> Vec<CycleEdge> {
        let pid = |t: TxnId| self.waiter(t).map_or(0, |(_, w)| w.pid);
        cycle
            .iter()
            .zip(cycle.iter().cycle().skip(1))
            .filter_map(|(&a, &b)| {
                let (target, w) = self.waiter(a)?;
                Some(CycleEdge {
                    pid: w.pid,
                    mode: w.mode,
                    target: target.clone(),
                    blocked_by: pid(b),
                })
            })
            .collect()
    }

    fn release_all(&mut self, txn: TxnId, effects: &mut Vec<Effect>) {
        self.remove_wait(txn, effects);
        for target in self.held.remove(&txn).unwrap_or_default() {
            if let Some(q) = self.locks.get_mut(&target) {
                q.holders.retain(|h| h.txn != txn);
            }
            // MUTATION (loom-tests/mutations.sh): forget the waiters on release.
            #[cfg(feature = "mutate-forget-waiter-on-release")]
            continue;
            self.wake(&target, effects);
        }
    }

    /// Drops `txn`'s queued wait, if any, and wakes whoever it was holding up.
    fn remove_wait(&mut self, txn: TxnId, effects: &mut Vec<Effect>) {
        if let Some(target) = self.waiting.remove(&txn) {
            if let Some(q) = self.locks.get_mut(&target) {
                q.waiters.retain(|w| w.txn != txn);
            }
            self.wake(&target, effects);
        }
    }

    /// Grants waiters from the head of `target`'s queue while they fit the holders.
    fn wake(&mut self, target: &LockTarget, effects: &mut Vec<Effect>) {
        let Some(q) = self.locks.get_mut(target) else {
            return;
        };
        // MUTATION (loom-tests/mutations.sh): serve the newest waiter first (LIFO).
        #[cfg(feature = "mutate-lifo-wake")]
        q.waiters.make_contiguous().reverse();
        while let Some(&w) = q.waiters.front() {
            if !q.fits_holders(w.txn, w.mode) {
                break;
            }
            q.waiters.pop_front();
            if let Some(h) = q.holders.iter_mut().find(|h| h.txn == w.txn) {
                h.mode = w.mode;
            } else {
                q.holders.push(Holder { txn: w.txn, mode: w.mode });
                self.held.entry(w.txn).or_default().push(target.clone());
            }
            self.waiting.remove(&w.txn);
            effects.push(Effect::Granted { txn: w.txn });
        }
        if q.holders.is_empty() && q.waiters.is_empty() {
            self.locks.remove(target);
        }
    }

    /// Who holds `target`, in grant order.
    pub fn holders(&self, target: &LockTarget) -> Vec<(TxnId, LockMode)> {
        self.locks
            .get(target)
            .map_or_else(Vec::new, |q| q.holders.iter().map(|h| (h.txn, h.mode)).collect())
    }

    /// Who waits for `target`, in queue order.
    pub fn waiters(&self, target: &LockTarget) -> Vec<(TxnId, LockMode)> {
        self.locks
            .get(target)
            .map_or_else(Vec::new, |q| q.waiters.iter().map(|w| (w.txn, w.mode)).collect())
    }

    /// What `txn` waits for, if anything.
    pub fn waiting_for(&self, txn: TxnId) -> Option<&LockTarget> {
        self.waiting.get(&txn)
    }

    /// True when nothing is held or awaited (every transaction released).
    pub fn is_idle(&self) -> bool {
        self.locks.is_empty() && self.held.is_empty() && self.waiting.is_empty()
    }

    /// Checks the table's invariants; the loom models and golden tests call it after
    /// every step. `Err` names the first broken one.
    ///
    /// * no two holders of a target conflict, and nobody holds a target twice;
    /// * every queued waiter is recorded as waiting for that target, and vice versa;
    /// * no queue head could be granted (nothing is left un-woken);
    /// * no empty queue is kept.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut queued = 0;
        for (target, q) in &self.locks {
            for (i, a) in q.holders.iter().enumerate() {
                for b in &q.holders[i + 1..] {
                    if a.txn == b.txn || !a.mode.compatible_with(b.mode) {
                        return Err(format!("{target:?}: holders {a:?} and {b:?} conflict"));
                    }
                }
            }
            for w in &q.waiters {
                queued += 1;
                if self.waiting.get(&w.txn) != Some(target) {
                    return Err(format!("{target:?}: waiter {w:?} not recorded as waiting"));
                }
            }
            if let Some(w) = q.waiters.front() {
                if q.fits_holders(w.txn, w.mode) {
                    return Err(format!("{target:?}: head waiter {w:?} could be granted"));
                }
            }
            if q.holders.is_empty() && q.waiters.is_empty() {
                return Err(format!("{target:?}: empty queue kept"));
            }
        }
        if queued != self.waiting.len() {
            return Err(format!("{queued} queued waiters but {} recorded", self.waiting.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::catalog::TableId;

    fn row(k: &str) -> LockTarget {
        LockTarget::Row { table: TableId(16385), key: k.as_bytes().into() }
    }

    fn acq(t: u64, target: LockTarget, mode: LockMode) -> Input {
        Input::Acquire { txn: TxnId(t), pid: 100 + t as i32, target, mode, wait: WaitPolicy::Block }
    }

    #[test]
    fn two_cycle_reports_postgres_detail_and_keeps_victim_locks() {
        let mut lt = LockTable::new();
        assert_eq!(
            lt.step(acq(1, row("a"), LockMode::Exclusive)),
            vec![Effect::Granted { txn: TxnId(1) }]
        );
        assert_eq!(
            lt.step(acq(2, row("b"), LockMode::Exclusive)),
            vec![Effect::Granted { txn: TxnId(2) }]
        );
        assert_eq!(lt.step(acq(1, row("b"), LockMode::Exclusive)), vec![]);
        let effects = lt.step(acq(2, row("a"), LockMode::Exclusive));
        let [Effect::Failed { txn, error }] = effects.as_slice() else { panic!("{effects:?}") };
        assert_eq!(*txn, TxnId(2));
        assert_eq!(error.kind, ErrorKind::DeadlockDetected);
        assert_eq!(
            error.detail.as_deref().unwrap(),
            "Process 102 waits for ExclusiveLock on tuple of relation 16385; blocked by process 101.\n\
             Process 101 waits for ExclusiveLock on tuple of relation 16385; blocked by process 102."
        );
        assert_eq!(lt.holders(&row("b")), vec![(TxnId(2), LockMode::Exclusive)]);
        lt.check_invariants().unwrap();
        assert_eq!(
            lt.step(Input::ReleaseAll { txn: TxnId(2) }),
            vec![Effect::Granted { txn: TxnId(1) }]
        );
        assert_eq!(lt.step(Input::ReleaseAll { txn: TxnId(1) }), vec![]);
        assert!(lt.is_idle());
    }

    #[test]
    fn releasing_one_lock_wakes_its_waiters_and_keeps_the_others() {
        let mut lt = LockTable::new();
        let sub = LockTarget::Transaction(TxnId(9));
        let own = LockTarget::Transaction(TxnId(1));
        let block = WaitPolicy::Block;
        for target in [own.clone(), sub.clone()] {
            let input = Input::Acquire {
                txn: TxnId(1),
                pid: 1,
                target,
                mode: LockMode::Exclusive,
                wait: block,
            };
            assert_eq!(lt.step(input), vec![Effect::Granted { txn: TxnId(1) }]);
        }
        let wait = Input::Acquire {
            txn: TxnId(2),
            pid: 2,
            target: sub.clone(),
            mode: LockMode::Shared,
            wait: block,
        };
        assert_eq!(lt.step(wait), vec![]);
        assert_eq!(
            lt.step(Input::Release { txn: TxnId(1), target: sub.clone() }),
            vec![Effect::Granted { txn: TxnId(2) }]
        );
        assert_eq!(lt.holders(&own), vec![(TxnId(1), LockMode::Exclusive)]);
        lt.check_invariants().unwrap();
    }

    #[test]
    fn second_request_while_waiting_is_refused_and_first_kept() {
        let mut lt = LockTable::new();
        lt.step(acq(1, row("a"), LockMode::Exclusive));
        assert_eq!(lt.step(acq(2, row("a"), LockMode::Exclusive)), vec![]);
        let e = lt.step(acq(2, row("b"), LockMode::Exclusive));
        assert!(
            matches!(&e[..], [Effect::Failed { error, .. }] if error.kind == ErrorKind::Internal)
        );
        assert_eq!(lt.waiting_for(TxnId(2)), Some(&row("a")));
        lt.check_invariants().unwrap();
    }

    #[test]
    fn long_exclusive_queue_has_one_edge_per_waiter() {
        let mut lt = LockTable::new();
        for t in 1..=50 {
            lt.step(acq(t, row("hot"), LockMode::Exclusive));
        }
        assert_eq!(lt.blockers(TxnId(50)), vec![TxnId(49)]);
        assert_eq!(lt.blockers(TxnId(2)), vec![TxnId(1)]);
        lt.check_invariants().unwrap();
    }
}
