//! The PostgreSQL wire protocol front end: the listener, the per-connection loop, and
//! the [`Backend`] seam to the session.
//!
//! ```text
//!  listener::serve ── accept ──▶ tokio task per connection: connection::run
//!                                  │ startup::open   SSLRequest→'N', StartupMessage,
//!                                  │                 CancelRequest → cancel::cancel_session
//!                                  │ BackendFactory::session(pid, CancelSignal)
//!                                  │ Backend::startup → startup::greet (one write)
//!                                  ▼
//!                          loop: transport::read_message (frame: cut, check, decode)
//!                                → Backend::{query, parse, bind, …}
//!                                → Responses, written at Sync/Flush/end of Query
//! ```
//!
//! We use only pgwire's codec (`pgwire::messages`), not its handler API
//! (`process_socket` and the `*Handler` traits), for three reasons:
//! * **writes**: its handlers write 4–5 times per extended-protocol query (after Parse,
//!   Bind, Describe, Execute…); PostgreSQL writes once, at Sync. Here every answer goes
//!   into [`Responses`] and reaches the socket only when a round trip ends;
//! * **protocol rules**: it does not enforce what clients rely on: skip to Sync after an
//!   extended-protocol error, ignore leftover CopyData after a failed COPY, FATAL 08P01
//!   on a malformed message (its decoders trust length fields and can panic on a short
//!   body, so `frame` cuts and checks every message before pgwire sees it);
//! * **state**: its handlers are shared across connections, while a session here is one
//!   [`Backend`] value owned by its connection's task, with no locks between them.
//!
//! Not done: TLS and GSS encryption (both refused with `N`), authentication other than
//! trust, protocol 3.2 (clients asking for 3.x get NegotiateProtocolVersion 3.0, as
//! from PostgreSQL 15), FunctionCall, COPY TO STDOUT and COPY BOTH, replication.

pub mod backend;
mod cancel;
mod connection;
mod frame;
mod listener;
mod startup;
mod transport;

pub use backend::{Backend, Field, Flow, Responses, TxnStatus};
pub use cancel::CancelSignal;
pub use listener::{bind, serve, BackendFactory};
