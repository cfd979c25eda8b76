//! troupe: a PostgreSQL-compatible OLTP database server built as a set of actors.
#![warn(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod catalog;
pub mod engine;
pub mod error;
pub mod lock;
pub mod sequence;
pub mod server;
pub mod session;
pub mod sql;
pub mod storage;
pub mod sync;
pub mod txn;
pub mod types;
pub mod wal;
pub mod wire;

pub use error::{Error, ErrorKind, Result};
