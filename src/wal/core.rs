//! The group-commit decisions, as a sans-IO state machine: [`GroupCommit`].
//!
//! The core knows nothing of threads, channels or fjall. Its host (the WalWriter
//! thread in `writer.rs`, or a loom model) feeds it [`Input`]s and performs the
//! [`Effect`]s it returns, in order:
//!
//! ```text
//!  Submitted(r1) ─┐                         ┌─▶ Persist([r1, r2, r3])   host: one batch + one fsync
//!  Submitted(r2) ─┼─▶ pending [r1 r2 r3] ───┘
//!  Submitted(r3) ─┘         ▲ Drained (host has nothing more waiting) or group full
//!  PersistFinished(Ok) ──────────────────────▶ Ack(Durable { [t1 t2 t3], Ok })
//!  PersistFinished(Err e) ───────────────────▶ Poison(e), Ack(Durable { [t1 t2 t3], Err }),
//!                                              Ack(Durable { [every pending ts], Err })
//!  Submitted(r4) after poison ───────────────▶ Ack(Durable { [t4], Err })
//! ```
//!
//! Invariants, each checked by the unit tests below and by the loom model in
//! `loom-tests/tests/group_commit.rs`:
//! 1. `Ack(Ok)` lists only commits that a `Persist` effect carried and whose
//!    `PersistFinished(Ok)` came back (DESIGN §2, invariant 1).
//! 2. Every `Submitted` commit is listed in exactly one `Ack` (invariant 4), and acks
//!    come out in submission order.
//! 3. After one `PersistFinished(Err)` the core is poisoned for good: no `Ack(Ok)` ever
//!    again and no `Persist` ever again (a failed fsync is never retried: after it the
//!    kernel may have dropped the dirty pages, so a retry could "succeed" over lost
//!    data — PostgreSQL's fsync lesson).
//! 4. At most one persist is in flight; records submitted meanwhile wait and form the
//!    next group (classic group commit: the group that gathers during an fsync).
//!
//! The host must send `Drained` whenever it has no further record immediately at
//! hand, otherwise a non-full group would wait for the next submission.

use crate::error::{Error, ErrorKind};
use crate::txn::CommitTs;
use crate::wal::record::{CommitRecord, Durable};

/// When a group is closed even though more records are waiting. One record is never
/// split: a record bigger than `max_bytes` forms a group of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLimits {
    /// At most this many records per group.
    pub max_records: usize,
    /// A group closes once its payload reaches this many bytes.
    pub max_bytes: usize,
}

impl Default for GroupLimits {
    /// 1024 records or 32 MiB: far above a TPC-B group (tens of small records), and
    /// small enough that a group's batch does not double the process's memory.
    fn default() -> Self {
        GroupLimits { max_records: 1024, max_bytes: 32 << 20 }
    }
}

/// What the host tells the core.
#[derive(Debug)]
pub enum Input {
    /// A record arrived (in commit-ts order).
    Submitted(CommitRecord),
    /// The host has no further record at hand: close the group now if it is idle.
    Drained,
    /// The persist of the group in flight finished (batch written and fsynced, or not).
    PersistFinished(Result<(), Error>),
}

/// What the core asks the host to do, in order.
#[derive(Debug)]
pub enum Effect {
    /// Write these records as one atomic batch and persist (fsync) it once, then feed
    /// back `PersistFinished`. The records move to the host: no copy of a huge record.
    Persist(Vec<CommitRecord>),
    /// A persist failed: publish the poisoned flag before delivering the acks after it.
    Poison(Error),
    /// Deliver this outcome to the commits it lists.
    Ack(Durable),
}

/// The group-commit state machine (see the module doc).
#[derive(Debug)]
pub struct GroupCommit {
    limits: GroupLimits,
    /// Records waiting for the next persist, in submission order.
    pending: Vec<CommitRecord>,
    /// Payload bytes in `pending`.
    pending_bytes: usize,
    /// The commits of the group being persisted, if one is.
    in_flight: Option<Vec<CommitTs>>,
    /// The first persist failure, once there was one.
    poisoned: Option<Error>,
}

impl GroupCommit {
    /// An idle, healthy core.
    pub fn new(limits: GroupLimits) -> Self {
        GroupCommit {
            limits: GroupLimits { max_records: limits.max_records.max(1), ..limits },
            pending: Vec::new(),
            pending_bytes: 0,
            in_flight: None,
            poisoned: None,
        }
    }

    /// True once a persist failed.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// True while a persist is in flight.
    pub fn is_persisting(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Number of records waiting for a persist (not counting the one in flight).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Advances the machine by one input and returns the effects to perform, in order.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Submitted(record) => self.on_submitted(record),
            Input::Drained => self.start_persist_if_idle(),
            Input::PersistFinished(result) => self.on_persist_finished(result),
        }
    }

    fn on_submitted(&mut self, record: CommitRecord) -> Vec<Effect> {
        if let Some(cause) = &self.poisoned {
            return vec![Effect::Ack(Durable {
                commits: vec![record.ts],
                result: Err(poisoned_error(cause)),
            })];
        }
        self.pending_bytes += record.approx_bytes();
        self.pending.push(record);
        if self.group_is_full() {
            self.start_persist_if_idle()
        } else {
            Vec::new()
        }
    }

    fn on_persist_finished(&mut self, result: Result<(), Error>) -> Vec<Effect> {
        // A PersistFinished without a persist in flight is a host bug; ignoring it is
        // the safe choice: it cannot acknowledge anything.
        let Some(commits) = self.in_flight.take() else {
            return Vec::new();
        };
        match result {
            Ok(()) => {
                let mut effects = vec![Effect::Ack(Durable { commits, result: Ok(()) })];
                // Records that arrived during the fsync already waited one: go now.
                effects.extend(self.start_persist_if_idle());
                effects
            }
            Err(cause) => {
                let cause = fsync_error(cause);
                #[cfg(feature = "mutate-persist-failure-not-poisoning")]
                {
                    // MUTATION (loom-tests/mutations.sh): fail the group but do not
                    // poison; the waiting records go on to the next persist.
                    let mut effects = vec![Effect::Ack(Durable {
                        commits: commits.clone(),
                        result: Err(cause.clone()),
                    })];
                    effects.extend(self.start_persist_if_idle());
                    return effects;
                }
                let mut effects = vec![
                    Effect::Poison(cause.clone()),
                    Effect::Ack(Durable { commits, result: Err(cause.clone()) }),
                ];
                if !self.pending.is_empty() {
                    let waiting = self.pending.drain(..).map(|r| r.ts).collect();
                    self.pending_bytes = 0;
                    effects.push(Effect::Ack(Durable {
                        commits: waiting,
                        result: Err(poisoned_error(&cause)),
                    }));
                }
                self.poisoned = Some(cause);
                effects
            }
        }
    }

    fn group_is_full(&self) -> bool {
        self.pending.len() >= self.limits.max_records || self.pending_bytes >= self.limits.max_bytes
    }

    /// Closes the pending group into a `Persist` when nothing is in flight.
    fn start_persist_if_idle(&mut self) -> Vec<Effect> {
        if self.in_flight.is_some() || self.pending.is_empty() || self.poisoned.is_some() {
            return Vec::new();
        }
        let take = self.group_cut();
        let rest = self.pending.split_off(take);
        let group = std::mem::replace(&mut self.pending, rest);
        self.pending_bytes = self.pending.iter().map(CommitRecord::approx_bytes).sum();
        self.in_flight = Some(group.iter().map(|r| r.ts).collect());
        #[cfg(feature = "mutate-ack-before-persist")]
        {
            // MUTATION (loom-tests/mutations.sh): acknowledge the group before its
            // persist ran; its PersistFinished then acknowledges nothing more.
            let commits = self.in_flight.replace(Vec::new()).unwrap_or_default();
            return vec![Effect::Ack(Durable { commits, result: Ok(()) }), Effect::Persist(group)];
        }
        vec![Effect::Persist(group)]
    }

    /// How many pending records the next group takes: at least one, then up to the
    /// limits (the bytes limit closes the group after the record that reaches it).
    fn group_cut(&self) -> usize {
        let mut bytes = 0;
        for (i, record) in self.pending.iter().enumerate() {
            if i == self.limits.max_records || (i > 0 && bytes >= self.limits.max_bytes) {
                return i;
            }
            bytes += record.approx_bytes();
        }
        self.pending.len()
    }
}

/// The 58030 error of the group whose persist failed.
fn fsync_error(cause: Error) -> Error {
    if cause.kind == ErrorKind::IoError {
        return cause;
    }
    Error::new(ErrorKind::IoError, "could not fsync the write-ahead log")
        .with_detail(cause.to_string())
}

/// The 58030 error of every commit refused after the engine was poisoned.
pub(crate) fn poisoned_error(cause: &Error) -> Error {
    Error::new(
        ErrorKind::IoError,
        "could not commit: the write-ahead log is poisoned by an earlier fsync failure",
    )
    .with_detail(cause.message.clone())
    .with_hint("Restart the server; it recovers every commit acknowledged before the failure.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::TableId;
    use crate::wal::record::WalWrite;

    fn record(ts: u64, bytes: usize) -> CommitRecord {
        CommitRecord {
            ts: CommitTs(ts),
            writes: vec![WalWrite::Put {
                table: TableId(1),
                key: vec![0; 4],
                value: vec![0; bytes],
            }],
        }
    }

    /// A readable transcript of effects: `persist [1 2]`, `ack [1 2] ok`, `poison`.
    fn show(effects: &[Effect]) -> Vec<String> {
        let ts = |c: &[CommitTs]| c.iter().map(|t| t.0.to_string()).collect::<Vec<_>>().join(" ");
        effects
            .iter()
            .map(|e| match e {
                Effect::Persist(group) => {
                    format!("persist [{}]", ts(&group.iter().map(|r| r.ts).collect::<Vec<_>>()))
                }
                Effect::Poison(_) => "poison".to_string(),
                Effect::Ack(d) => {
                    format!(
                        "ack [{}] {}",
                        ts(&d.commits),
                        if d.result.is_ok() { "ok" } else { "err" }
                    )
                }
            })
            .collect()
    }

    fn io_error() -> Error {
        Error::new(ErrorKind::IoError, "could not fsync file \"journal\": Input/output error")
    }

    #[test]
    fn several_submits_then_one_persist_then_acks_in_order() {
        let mut core = GroupCommit::new(GroupLimits::default());
        for ts in 1..=3 {
            assert!(core.step(Input::Submitted(record(ts, 10))).is_empty());
        }
        assert_eq!(show(&core.step(Input::Drained)), ["persist [1 2 3]"]);
        assert!(core.is_persisting());
        assert!(core.step(Input::Drained).is_empty(), "one persist at a time");
        assert_eq!(show(&core.step(Input::PersistFinished(Ok(())))), ["ack [1 2 3] ok"]);
        assert!(!core.is_persisting());
        assert!(core.step(Input::Drained).is_empty(), "nothing pending");
    }

    #[test]
    fn records_arriving_during_a_persist_form_the_next_group() {
        let mut core = GroupCommit::new(GroupLimits::default());
        core.step(Input::Submitted(record(1, 10)));
        assert_eq!(show(&core.step(Input::Drained)), ["persist [1]"]);
        assert!(core.step(Input::Submitted(record(2, 10))).is_empty());
        assert!(core.step(Input::Submitted(record(3, 10))).is_empty());
        assert_eq!(
            show(&core.step(Input::PersistFinished(Ok(())))),
            ["ack [1] ok", "persist [2 3]"]
        );
        assert_eq!(show(&core.step(Input::PersistFinished(Ok(())))), ["ack [2 3] ok"]);
    }

    #[test]
    fn a_full_group_persists_without_waiting_for_drained() {
        let mut core = GroupCommit::new(GroupLimits { max_records: 2, max_bytes: 1 << 20 });
        assert!(core.step(Input::Submitted(record(1, 10))).is_empty());
        assert_eq!(show(&core.step(Input::Submitted(record(2, 10)))), ["persist [1 2]"]);
        assert!(core.step(Input::Submitted(record(3, 10))).is_empty());
        assert!(core.step(Input::Submitted(record(4, 10))).is_empty());
        assert!(core.step(Input::Submitted(record(5, 10))).is_empty());
        // Only two of the three waiting records fit the next group.
        assert_eq!(
            show(&core.step(Input::PersistFinished(Ok(())))),
            ["ack [1 2] ok", "persist [3 4]"]
        );
        assert_eq!(
            show(&core.step(Input::PersistFinished(Ok(())))),
            ["ack [3 4] ok", "persist [5]"]
        );
    }

    #[test]
    fn the_bytes_limit_closes_a_group_but_never_splits_a_record() {
        let mut core = GroupCommit::new(GroupLimits { max_records: 100, max_bytes: 1000 });
        assert_eq!(show(&core.step(Input::Submitted(record(1, 5000)))), ["persist [1]"]);
        core.step(Input::Submitted(record(2, 600)));
        core.step(Input::Submitted(record(3, 600)));
        core.step(Input::Submitted(record(4, 10)));
        assert_eq!(
            show(&core.step(Input::PersistFinished(Ok(())))),
            ["ack [1] ok", "persist [2 3]"]
        );
        assert_eq!(core.pending_len(), 1);
        assert_eq!(
            show(&core.step(Input::PersistFinished(Ok(())))),
            ["ack [2 3] ok", "persist [4]"]
        );
    }

    #[test]
    fn a_failed_persist_fails_its_group_every_waiting_record_and_every_later_one() {
        let mut core = GroupCommit::new(GroupLimits::default());
        core.step(Input::Submitted(record(1, 10)));
        core.step(Input::Submitted(record(2, 10)));
        assert_eq!(show(&core.step(Input::Drained)), ["persist [1 2]"]);
        core.step(Input::Submitted(record(3, 10)));
        core.step(Input::Submitted(record(4, 10)));
        let effects = core.step(Input::PersistFinished(Err(io_error())));
        assert_eq!(show(&effects), ["poison", "ack [1 2] err", "ack [3 4] err"]);
        assert!(core.is_poisoned());
        match &effects[1] {
            Effect::Ack(Durable { result: Err(e), .. }) => {
                assert_eq!(e.kind, ErrorKind::IoError);
                assert_eq!(e.kind.sqlstate(), "58030");
            }
            other => panic!("expected a failed ack, got {other:?}"),
        }
        // Later submissions fail at once; nothing is ever persisted again.
        assert_eq!(show(&core.step(Input::Submitted(record(5, 10)))), ["ack [5] err"]);
        assert!(core.step(Input::Drained).is_empty());
        assert!(!core.is_persisting());
    }

    #[test]
    fn a_non_io_persist_error_is_reported_as_58030() {
        let mut core = GroupCommit::new(GroupLimits::default());
        core.step(Input::Submitted(record(1, 10)));
        core.step(Input::Drained);
        let effects = core.step(Input::PersistFinished(Err(Error::internal("disk on fire"))));
        let Effect::Poison(e) = &effects[0] else { panic!("expected poison first") };
        assert_eq!(e.kind, ErrorKind::IoError);
        assert_eq!(e.detail.as_deref(), Some("disk on fire (XX000)"));
    }

    #[test]
    fn a_stray_persist_finished_acknowledges_nothing() {
        let mut core = GroupCommit::new(GroupLimits::default());
        core.step(Input::Submitted(record(1, 10)));
        assert!(core.step(Input::PersistFinished(Ok(()))).is_empty());
        assert_eq!(show(&core.step(Input::Drained)), ["persist [1]"]);
    }
}
