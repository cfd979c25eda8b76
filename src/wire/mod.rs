//! The PostgreSQL wire protocol front end: the listener, the per-connection loop, and
//! the [`Backend`] seam to the session.

pub mod backend;

pub use backend::{Backend, Field, Flow, Responses, TxnStatus};
