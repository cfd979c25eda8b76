//! The TxnManager's decisions, with no actor, channel or clock inside (DESIGN §5).
//!
//! It orders commits and moves the visibility watermark:
//!
//! ```text
//!  Commit(token) ──▶ ts = next_ts++ ──▶ Effect::Submit{token, ts}   (shell: record → WalWriter)
//!                                         pending: [(ts, token), …] in ts order
//!  Durable{[ts…], Ok}  ──▶ for each ts, in order:
//!                          Effect::Publish{token, ts}   (shell: status.commit(ts), reply Ok)
//!                          then Effect::Watermark(last ts)
//!  Durable{[ts…], Err} ──▶ Effect::Fail{token} for them and for every later commit;
//!                          the core is poisoned: every new Commit fails at once.
//! ```
//!
//! Invariants: the watermark only moves forward, in commit-timestamp order, and only
//! past commits whose status was published (invariant 2); every Commit gets exactly one
//! Publish or Fail (invariant 4); nothing is published after a failed persist (1).

use std::collections::VecDeque;

use crate::txn::CommitTs;

/// Identifies a waiting committer to the shell (opaque to the core).
pub type Token = u64;

/// What happens to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A transaction with writes asks to commit.
    Commit {
        /// The shell's handle for the reply.
        token: Token,
    },
    /// The WalWriter persisted (or failed to persist) a group of commits.
    Durable {
        /// The group's commit timestamps, in order.
        commits: Vec<CommitTs>,
        /// Whether the persist succeeded.
        ok: bool,
    },
    /// The shell could not hand commit `ts` to the WalWriter (it is poisoned or gone).
    SubmitFailed {
        /// The commit that was not submitted.
        ts: CommitTs,
    },
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Build the commit record with timestamp `ts` and submit it to the WalWriter.
    Submit {
        /// The committer.
        token: Token,
        /// Its commit timestamp.
        ts: CommitTs,
    },
    /// The commit is durable: publish `ts` in the transaction's status and reply Ok.
    Publish {
        /// The committer.
        token: Token,
        /// Its commit timestamp.
        ts: CommitTs,
    },
    /// Store the new watermark (after the Publish effects before it).
    Watermark(CommitTs),
    /// The commit failed (persist error or poisoned engine): reply with an error.
    Fail {
        /// The committer.
        token: Token,
    },
}

/// Commit ordering and the watermark.
#[derive(Debug)]
pub struct TxnCore {
    next_ts: u64,
    watermark: CommitTs,
    pending: VecDeque<(CommitTs, Token)>,
    poisoned: bool,
}

impl TxnCore {
    /// A core whose first commit gets a timestamp after `last`.
    pub fn new(last: CommitTs) -> TxnCore {
        TxnCore { next_ts: last.0 + 1, watermark: last, pending: VecDeque::new(), poisoned: false }
    }

    /// The current watermark.
    pub fn watermark(&self) -> CommitTs {
        self.watermark
    }

    /// True after a failed persist.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Feeds one input; returns the effects in the order the shell must perform them.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Commit { token } => {
                if self.poisoned {
                    return vec![Effect::Fail { token }];
                }
                let ts = CommitTs(self.next_ts);
                self.next_ts += 1;
                self.pending.push_back((ts, token));
                vec![Effect::Submit { token, ts }]
            }
            Input::Durable { commits, ok } => {
                if !ok {
                    return self.poison();
                }
                let mut effects = Vec::with_capacity(commits.len() + 1);
                #[cfg(feature = "mutate-watermark-before-publish")]
                // MUTATION (loom-tests/mutations.sh): store the watermark before the
                // statuses it covers are published.
                if let Some(&last) = commits.last() {
                    effects.push(Effect::Watermark(last));
                }
                for ts in commits {
                    #[cfg(feature = "mutate-watermark-out-of-order")]
                    // MUTATION (loom-tests/mutations.sh): publish whichever commit the
                    // group names, not only the oldest pending one, and move the
                    // watermark to it: out of commit-timestamp order.
                    if let Some(at) = self.pending.iter().position(|&(t, _)| t == ts) {
                        if let Some((_, token)) = self.pending.remove(at) {
                            effects.push(Effect::Publish { token, ts });
                            effects.push(Effect::Watermark(ts));
                            self.watermark = ts;
                            continue;
                        }
                    }
                    // Groups arrive in ts order; a mismatch means a protocol bug, and
                    // publishing anyway could expose a commit before an earlier one:
                    // fail closed.
                    match self.pending.front() {
                        Some(&(head, token)) if head == ts => {
                            self.pending.pop_front();
                            effects.push(Effect::Publish { token, ts });
                            self.watermark = ts;
                        }
                        _ => {
                            effects.extend(self.poison());
                            return effects;
                        }
                    }
                }
                effects.push(Effect::Watermark(self.watermark));
                effects
            }
            Input::SubmitFailed { .. } => self.poison(),
        }
    }

    fn poison(&mut self) -> Vec<Effect> {
        self.poisoned = true;
        #[cfg(feature = "mutate-poison-forgets-commits")]
        {
            // MUTATION (loom-tests/mutations.sh): the waiting commits get no answer.
            self.pending.clear();
            return Vec::new();
        }
        self.pending.drain(..).map(|(_, token)| Effect::Fail { token }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_publishes_in_order_then_moves_watermark() {
        let mut core = TxnCore::new(CommitTs(10));
        assert_eq!(
            core.step(Input::Commit { token: 1 }),
            vec![Effect::Submit { token: 1, ts: CommitTs(11) }]
        );
        assert_eq!(
            core.step(Input::Commit { token: 2 }),
            vec![Effect::Submit { token: 2, ts: CommitTs(12) }]
        );
        let fx = core.step(Input::Durable { commits: vec![CommitTs(11), CommitTs(12)], ok: true });
        assert_eq!(
            fx,
            vec![
                Effect::Publish { token: 1, ts: CommitTs(11) },
                Effect::Publish { token: 2, ts: CommitTs(12) },
                Effect::Watermark(CommitTs(12)),
            ]
        );
        assert_eq!(core.watermark(), CommitTs(12));
    }

    #[test]
    fn failed_persist_fails_everything_waiting_and_poisons() {
        let mut core = TxnCore::new(CommitTs(0));
        core.step(Input::Commit { token: 1 });
        core.step(Input::Commit { token: 2 });
        let fx = core.step(Input::Durable { commits: vec![CommitTs(1)], ok: false });
        assert_eq!(fx, vec![Effect::Fail { token: 1 }, Effect::Fail { token: 2 }]);
        assert_eq!(core.step(Input::Commit { token: 3 }), vec![Effect::Fail { token: 3 }]);
        assert_eq!(core.watermark(), CommitTs(0));
    }

    #[test]
    fn out_of_order_durable_fails_closed() {
        let mut core = TxnCore::new(CommitTs(0));
        core.step(Input::Commit { token: 1 });
        core.step(Input::Commit { token: 2 });
        let fx = core.step(Input::Durable { commits: vec![CommitTs(2)], ok: true });
        assert_eq!(fx, vec![Effect::Fail { token: 1 }, Effect::Fail { token: 2 }]);
        assert!(core.is_poisoned());
    }
}
