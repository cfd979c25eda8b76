//! Query cancellation: the per-session [`CancelSignal`] and the process-wide table of
//! cancel keys that a CancelRequest is looked up in.
//!
//! PostgreSQL cancels out of band. At startup each session gets a key (pid, secret),
//! sent to the client in BackendKeyData. To cancel, the client opens a *new* connection
//! and sends CancelRequest(pid, secret) as its first message; the server finds the
//! session with that key, interrupts its running statement (57014), and closes the new
//! connection without a reply.
//!
//! ```text
//!  conn A (session, pid 7)                 conn B (cancel)
//!  ───────────────────────                 ───────────────
//!  startup: register(7, secret, sig) ──▶ CANCEL_KEYS
//!  query: sig.clear(); …                   CancelRequest(7, secret)
//!         select! { work, sig.cancelled() } ◀── CANCEL_KEYS[7].sig.cancel()
//!         → 57014                          close, no reply
//!  connection ends: drop(Registration) ─▶ CANCEL_KEYS.remove(7)
//! ```
//!
//! The signal is level-triggered: `cancel` sets a flag that stays set until the session
//! calls [`CancelSignal::clear`] (at statement start) or [`CancelSignal::take`]. A cancel
//! that arrives while the session is idle therefore does nothing, as in PostgreSQL, as
//! long as the session clears the flag when its next statement starts.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use tokio::sync::Notify;

/// Cancel signal of one session: set by a CancelRequest from another connection.
///
/// Cheap to clone; all clones share one flag.
#[derive(Clone, Default)]
pub struct CancelSignal {
    inner: Arc<SignalState>,
}

#[derive(Default)]
struct SignalState {
    requested: AtomicBool,
    notify: Notify,
}

impl std::fmt::Debug for CancelSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelSignal")
            .field("requested", &self.inner.requested.load(Ordering::Acquire))
            .finish()
    }
}

impl CancelSignal {
    /// Requests cancellation of the running statement.
    pub fn cancel(&self) {
        self.inner.requested.store(true, Ordering::Release);
        // Wakes only waiters that are already registered; `cancelled` registers before
        // it looks at the flag, so none can miss this store.
        self.inner.notify.notify_waiters();
    }

    /// True (and clears the flag) if a cancel was requested.
    pub fn take(&self) -> bool {
        self.inner.requested.swap(false, Ordering::AcqRel)
    }

    /// True if a cancel was requested; does not clear it.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::Acquire)
    }

    /// Completes once a cancel is requested (immediately if one already was). Does not
    /// clear the flag.
    pub async fn cancelled(&self) {
        loop {
            // No lost wake-up: the waiter is registered (`enable`) before the flag is
            // read, so a `cancel` between the read and the `.await` still wakes it.
            //   [session] enable() → load()=false → await
            //   [cancel ] store(true) → notify_waiters()  — wakes the enabled waiter
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }

    /// Forgets any earlier request. The session calls this when a statement starts, so
    /// that a cancel aimed at an earlier statement (or sent while idle) is dropped.
    pub fn clear(&self) {
        self.inner.requested.store(false, Ordering::Release);
    }
}

/// The key a client quotes in CancelRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CancelKey {
    /// The "process id" of the session (a process-wide counter, not an OS pid).
    pub pid: i32,
    /// A random secret, so that other clients cannot guess the key.
    pub secret: i32,
}

impl CancelKey {
    /// A fresh key: the next pid from the process-wide counter and a random secret.
    pub fn issue() -> CancelKey {
        static NEXT_PID: AtomicI32 = AtomicI32::new(1000);
        let mut pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        if pid <= 0 {
            // Wrapped after 2^31 connections: start again (pids must stay positive).
            NEXT_PID.store(1001, Ordering::Relaxed);
            pid = 1000;
        }
        CancelKey { pid, secret: rand::random::<i32>() }
    }
}

/// Sessions that can be cancelled, by pid.
fn cancel_keys() -> &'static DashMap<i32, (i32, CancelSignal)> {
    static KEYS: OnceLock<DashMap<i32, (i32, CancelSignal)>> = OnceLock::new();
    KEYS.get_or_init(DashMap::new)
}

/// Entry of one session in the cancel table; removed when dropped (connection end).
#[derive(Debug)]
pub(crate) struct Registration {
    key: CancelKey,
}

impl Registration {
    /// Makes `signal` reachable by CancelRequest(key.pid, key.secret).
    pub fn new(key: CancelKey, signal: CancelSignal) -> Registration {
        cancel_keys().insert(key.pid, (key.secret, signal));
        Registration { key }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Only remove our own entry: after a pid wrap-around another session may hold it.
        cancel_keys().remove_if(&self.key.pid, |_, (secret, _)| *secret == self.key.secret);
    }
}

/// Handles a CancelRequest: cancels the matching session. Returns whether one matched
/// (the client is never told).
pub(crate) fn cancel_session(pid: i32, secret: i32) -> bool {
    // Clone the signal out so that the map's shard lock is not held while signalling.
    let signal = cancel_keys()
        .get(&pid)
        .and_then(|entry| (entry.value().0 == secret).then(|| entry.value().1.clone()));
    match signal {
        Some(signal) => {
            signal.cancel();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancel_before_wait_is_not_lost() {
        let sig = CancelSignal::default();
        sig.cancel();
        sig.cancelled().await;
        assert!(sig.take());
        assert!(!sig.take());
    }

    #[tokio::test]
    async fn cancel_wakes_a_waiter() {
        let sig = CancelSignal::default();
        let waiter = tokio::spawn({
            let sig = sig.clone();
            async move { sig.cancelled().await }
        });
        tokio::task::yield_now().await;
        sig.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("waiter woke")
            .expect("waiter ran");
    }

    #[test]
    fn registry_matches_pid_and_secret_and_forgets_on_drop() {
        let key = CancelKey::issue();
        let sig = CancelSignal::default();
        let reg = Registration::new(key, sig.clone());
        assert!(!cancel_session(key.pid, key.secret.wrapping_add(1)));
        assert!(!sig.is_requested());
        assert!(cancel_session(key.pid, key.secret));
        assert!(sig.take());
        drop(reg);
        assert!(!cancel_session(key.pid, key.secret));
    }
}
