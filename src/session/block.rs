//! The session's transaction-block state machine, as a sans-IO core (DESIGN §5): the
//! session feeds it events and performs the effects it returns.
//!
//! ```text
//!            BEGIN                        error
//!   None ───────────────▶ Explicit ───────────────▶ Failed ──COMMIT/ROLLBACK──▶ None
//!    │ ▲                    │  COMMIT/ROLLBACK          (other statements: 25P02;
//!    │ └────────────────────┘                            COMMIT answers ROLLBACK)
//!    │ a statement outside a block            error
//!    ▼                                    ┌──────────────▶ ImplicitFailed
//!   Implicit ── End (end of the Query ─────┤                   │ End: roll back
//!            string, or Sync): commit      └── BEGIN: Explicit  ▼
//!                                                              None
//! ```
//! PostgreSQL's rules that live here: a statement outside a block opens an implicit
//! transaction that the end of its Query string (simple protocol) or the next Sync
//! (extended protocol) commits; BEGIN inside an implicit transaction turns it explicit;
//! COMMIT or ROLLBACK outside any block warns (25P01) and does nothing; BEGIN inside a
//! block warns (25001); in a failed block only COMMIT/ROLLBACK run, and both roll back.
//! With a savepoint open, a failed block keeps its transaction, and ROLLBACK TO
//! SAVEPOINT takes it back to `Explicit` (the session undoes the work since).

use crate::wire::TxnStatus;

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// No transaction.
    None,
    /// An implicit transaction (ends with the Query string, or at Sync).
    Implicit,
    /// BEGIN … COMMIT.
    Explicit,
    /// An explicit block after an error: 25P02 until COMMIT/ROLLBACK.
    Failed,
    /// An implicit transaction after an error, until its end.
    ImplicitFailed,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// BEGIN / START TRANSACTION.
    Begin,
    /// COMMIT / END.
    Commit,
    /// ROLLBACK / ABORT.
    Rollback,
    /// Any other statement is about to run.
    Statement,
    /// The running statement failed.
    Failed,
    /// The running statement failed in a block with a savepoint open: the block fails
    /// but keeps its transaction, for ROLLBACK TO SAVEPOINT.
    FailedInSavepoint,
    /// ROLLBACK TO SAVEPOINT ran (the session undid the work since the savepoint).
    RolledBackToSavepoint,
    /// The lone statement of an implicit transaction failed with 40001/40P01 and runs
    /// again in a new transaction.
    Retry,
    /// End of a simple Query string, or Sync.
    End,
}

/// What the session must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Refuse the statement with 25P02.
    RefuseInFailedBlock,
    /// Send a WARNING.
    Warn {
        /// SQLSTATE.
        code: &'static str,
        /// Message.
        message: &'static str,
    },
    /// An explicit block opened (the transaction takes BEGIN's isolation level if it
    /// has run nothing yet).
    OpenedExplicit,
    /// The statement opened an implicit transaction (it is its first statement, so it
    /// may be retried on 40001/40P01).
    OpenedImplicit,
    /// Commit the transaction.
    CommitTxn,
    /// Roll the transaction back; `restore_settings`: SETs made in it revert now
    /// (otherwise they revert when the failed block ends).
    AbortTxn {
        /// Revert the block's SETs now.
        restore_settings: bool,
    },
    /// The command tag of COMMIT/ROLLBACK.
    Tag(&'static str),
}

impl Block {
    /// Feeds one event; returns the effects in order.
    pub fn step(&mut self, event: Event) -> Vec<Effect> {
        use Block as B;
        use Effect as E;
        use Event as V;
        let (next, effects) = match (*self, event) {
            (B::Failed, V::Statement) => (B::Failed, vec![E::RefuseInFailedBlock]),
            (B::None, V::Statement) => (B::Implicit, vec![E::OpenedImplicit]),
            (s, V::Statement) => (s, vec![]),

            (B::Explicit | B::Failed, V::Begin) => (
                *self,
                vec![E::Warn {
                    code: "25001",
                    message: "there is already a transaction in progress",
                }],
            ),
            (_, V::Begin) => (B::Explicit, vec![E::OpenedExplicit]),

            (B::Explicit | B::Implicit, V::Commit) => {
                (B::None, vec![E::CommitTxn, E::Tag("COMMIT")])
            }
            (B::Failed | B::ImplicitFailed, V::Commit) => {
                (B::None, vec![E::AbortTxn { restore_settings: true }, E::Tag("ROLLBACK")])
            }
            (B::None, V::Commit) => (
                B::None,
                vec![
                    E::Warn { code: "25P01", message: "there is no transaction in progress" },
                    E::Tag("COMMIT"),
                ],
            ),

            (B::None, V::Rollback) => (
                B::None,
                vec![
                    E::Warn { code: "25P01", message: "there is no transaction in progress" },
                    E::Tag("ROLLBACK"),
                ],
            ),
            (_, V::Rollback) => {
                (B::None, vec![E::AbortTxn { restore_settings: true }, E::Tag("ROLLBACK")])
            }

            (B::Explicit | B::Failed, V::FailedInSavepoint) => (B::Failed, vec![]),
            (B::Explicit | B::Failed, V::RolledBackToSavepoint) => (B::Explicit, vec![]),
            // Savepoints exist only in explicit blocks; elsewhere these are plain events.
            (_, V::FailedInSavepoint) => return self.step(V::Failed),
            (s, V::RolledBackToSavepoint) => (s, vec![]),
            (B::Explicit | B::Failed, V::Failed) => {
                (B::Failed, vec![E::AbortTxn { restore_settings: false }])
            }
            (B::Implicit | B::ImplicitFailed, V::Failed) => {
                (B::ImplicitFailed, vec![E::AbortTxn { restore_settings: true }])
            }
            (B::None, V::Failed) => (B::None, vec![E::AbortTxn { restore_settings: true }]),

            // The failed attempt's transaction is rolled back before the statement runs
            // again, so that it is applied at most once (see `super::retry`).
            #[cfg(not(feature = "mutate-retry-keeps-failed-attempt"))]
            (_, V::Retry) => (B::None, vec![E::AbortTxn { restore_settings: true }]),
            // MUTATION (loom-tests/mutations.sh): run again inside the failed attempt's
            // transaction.
            #[cfg(feature = "mutate-retry-keeps-failed-attempt")]
            (_, V::Retry) => (B::None, vec![]),

            (B::Implicit, V::End) => (B::None, vec![E::CommitTxn]),
            (B::ImplicitFailed, V::End) => (B::None, vec![E::AbortTxn { restore_settings: true }]),
            (s, V::End) => (s, vec![]),
        };
        *self = next;
        effects
    }

    /// The ReadyForQuery status byte.
    pub fn status(self) -> TxnStatus {
        match self {
            Block::None | Block::Implicit | Block::ImplicitFailed => TxnStatus::Idle,
            Block::Explicit => TxnStatus::InBlock,
            Block::Failed => TxnStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs events from `start`, rendering each step as `event -> state [effects]`.
    fn transcript(start: Block, events: &[Event]) -> Vec<String> {
        let mut b = start;
        events
            .iter()
            .map(|e| {
                let fx = b.step(*e);
                format!("{e:?} -> {b:?} {fx:?}")
            })
            .collect()
    }

    #[test]
    fn explicit_block_error_then_commit_rolls_back() {
        let t = transcript(
            Block::None,
            &[Event::Begin, Event::Statement, Event::Failed, Event::Statement, Event::Commit],
        );
        assert_eq!(
            t,
            [
                "Begin -> Explicit [OpenedExplicit]",
                "Statement -> Explicit []",
                "Failed -> Failed [AbortTxn { restore_settings: false }]",
                "Statement -> Failed [RefuseInFailedBlock]",
                "Commit -> None [AbortTxn { restore_settings: true }, Tag(\"ROLLBACK\")]",
            ]
        );
    }

    #[test]
    fn implicit_transaction_commits_at_end_and_an_error_rolls_it_back() {
        let mut b = Block::None;
        assert_eq!(b.step(Event::Statement), [Effect::OpenedImplicit]);
        assert_eq!(b.step(Event::Statement), []);
        assert_eq!(b.step(Event::End), [Effect::CommitTxn]);
        assert_eq!(b, Block::None);
        b.step(Event::Statement);
        assert_eq!(b.step(Event::Failed), [Effect::AbortTxn { restore_settings: true }]);
        assert_eq!(b.status(), TxnStatus::Idle);
        assert_eq!(b.step(Event::End), [Effect::AbortTxn { restore_settings: true }]);
        assert_eq!(b, Block::None);
    }

    #[test]
    fn begin_inside_an_implicit_transaction_makes_it_explicit() {
        let mut b = Block::None;
        b.step(Event::Statement);
        assert_eq!(b.step(Event::Begin), [Effect::OpenedExplicit]);
        assert_eq!(
            b.step(Event::End),
            [],
            "the end of the Query string does not end a BEGIN block"
        );
        assert_eq!(b.status(), TxnStatus::InBlock);
    }

    #[test]
    fn control_statements_outside_a_block_warn() {
        let mut b = Block::None;
        assert_eq!(
            b.step(Event::Commit),
            [
                Effect::Warn { code: "25P01", message: "there is no transaction in progress" },
                Effect::Tag("COMMIT")
            ]
        );
        b.step(Event::Begin);
        assert_eq!(
            b.step(Event::Begin)[0],
            Effect::Warn { code: "25001", message: "there is already a transaction in progress" }
        );
        assert_eq!(b, Block::Explicit);
    }
}
