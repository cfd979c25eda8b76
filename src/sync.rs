//! The crate's synchronization facade: `std` types normally, loom's under
//! `--cfg troupe_loom`.
//!
//! State that is read outside the actor that owns it (a transaction's commit status,
//! the visibility watermark) goes through these re-exports, so that the loom models in
//! `loom-tests/` explore every interleaving of the real code. The cfg is our own name,
//! not `loom`, because `RUSTFLAGS=--cfg loom` also reaches tokio, which then does not
//! build with the features actix-rt and pgwire need.

// `Arc` stays std's under loom too: shared immutable data (rows, table definitions,
// plans) is not what the models check, and loom's Arc lacks `From<Vec<T>>` and
// `PartialEq`. The atomics and the mutex are what readers race on.
pub use std::sync::{Arc, Weak};

#[cfg(not(troupe_loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(troupe_loom))]
pub use std::sync::Mutex;

#[cfg(troupe_loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(troupe_loom)]
pub use loom::sync::Mutex;
