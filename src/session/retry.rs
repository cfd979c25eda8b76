//! When a failed statement runs again: the session's retry decision, as a pure
//! function so that the loom model of issue 5 (`loom-tests/tests/session_retry.rs`)
//! drives the same rule the session follows.
//!
//! PostgreSQL never retries; troupe retries an implicit (autocommit) statement that
//! failed with 40001 or 40P01, transparently, because its transaction held nothing but
//! that statement's own work. The retry is safe — the statement is applied at most
//! once — only with the other half of the protocol, in [`super::block`]: `Retry` rolls
//! the failed attempt's transaction back (its status turns aborted, its versions go,
//! its locks are released) before the statement runs again in a new transaction.
//!
//! ```text
//!  attempt 0: Statement → OpenedImplicit → run → Err(40001)
//!             should_retry(e, lone, opened_implicit, 0)?  yes → Retry → AbortTxn
//!  attempt 1: Statement → OpenedImplicit → run → Ok → … End → CommitTxn
//! ```
//!
//! Never retried: a statement of an explicit block (its transaction holds earlier
//! statements the client already saw succeed, so PostgreSQL's 40001 goes to the
//! client), nor one of several statements in a Query string (a retry would roll back
//! its neighbours), nor any other error.

use crate::error::Error;

/// How many times an implicit statement is retried after 40001/40P01.
pub const MAX_RETRIES: u32 = 20;

/// True if a statement that failed with `error` on attempt `attempt` (0 for the first
/// run) runs again: the error is 40001/40P01, the statement is the only one of its
/// Query string (`lone`), it opened the implicit transaction it ran in
/// (`opened_implicit`), and it has retries left.
pub fn should_retry(error: &Error, lone: bool, opened_implicit: bool, attempt: u32) -> bool {
    error.is_retryable() && lone && opened_implicit && attempt < MAX_RETRIES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn only_a_lone_implicit_statement_with_retries_left_runs_again() {
        let e = Error::serialization_update();
        assert!(should_retry(&e, true, true, 0));
        assert!(should_retry(&e, true, true, MAX_RETRIES - 1));
        assert!(!should_retry(&e, true, true, MAX_RETRIES), "out of retries");
        assert!(!should_retry(&e, false, true, 0), "one of several statements");
        assert!(!should_retry(&e, true, false, 0), "inside a transaction it did not open");
        let dup = Error::new(ErrorKind::UniqueViolation, "duplicate key");
        assert!(!should_retry(&dup, true, true, 0), "not a serialization error");
    }
}
