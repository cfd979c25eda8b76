//! The life of one connection after it is accepted: startup, then one loop that reads
//! a message, calls the [`Backend`] for it, and writes the buffered answers only when a
//! round trip ends.
//!
//! ```text
//!            ┌────────────── skip_until_sync = true ◀── Parse/Bind/Describe/Execute/
//!            ▼                                          Close failed (ErrorResponse)
//!  read ─▶ dispatch ─▶ Backend::… ─▶ Responses ──▶ flush at: Sync (after RFQ), Flush,
//!   ▲                                                end of Query (after RFQ), CopyIn,
//!   └──────────────────────────────────────────────  or > FLUSH_THRESHOLD bytes
//! ```
//!
//! Rules enforced here, as in PostgreSQL's `PostgresMain`:
//! * after an error in the extended protocol, every message up to Sync is skipped
//!   (Terminate is still honoured); Sync then answers normally;
//! * CopyData/CopyDone/CopyFail outside COPY are ignored (leftovers of a failed COPY);
//! * during COPY FROM STDIN only CopyData/CopyDone/CopyFail are accepted; Flush and Sync
//!   are ignored; anything else is a protocol violation. An error from `copy_data` is
//!   held until the client finishes sending (CopyDone/CopyFail), then reported;
//! * a malformed message is FATAL 08P01 and closes this connection only.
//!
//! Whatever ends the connection (Terminate, EOF, socket error, protocol violation),
//! [`Backend::terminate`] runs exactly once, after startup succeeded.

use std::sync::Arc;
use std::time::Duration;

use pgwire::messages::PgWireFrontendMessage as Msg;
use tokio::net::TcpStream;

use super::cancel::{self, CancelKey, CancelSignal, Registration};
use super::frame::violation;
use super::listener::BackendFactory;
use super::startup::{self, Opening};
use super::transport::{Hangup, Transport};
use super::{Backend, Flow, Responses};
use crate::error::Error;

/// Output buffered past this many bytes is written between two backend calls, so that
/// a long pipeline or a big COPY does not grow the buffer without bound.
const FLUSH_THRESHOLD: usize = 256 * 1024;
/// A client that has not finished its startup packets by then is dropped, so that idle
/// sockets cannot pile up (PostgreSQL's `authentication_timeout`, 1 minute).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the last messages (a FATAL error) may take to reach a client.
const FAREWELL_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves one accepted socket until it closes.
pub(crate) async fn run<F: BackendFactory>(stream: TcpStream, factory: Arc<F>) {
    let mut io = Transport::new(stream);
    let mut out = Responses::new();
    let opening =
        match tokio::time::timeout(STARTUP_TIMEOUT, startup::open(&mut io, &mut out)).await {
            Ok(opening) => opening,
            Err(_) => Err(Hangup::Violation(violation("incomplete startup packet"))),
        };
    let params = match opening {
        Ok(Opening::Session(params)) => params,
        Ok(Opening::Cancel { pid, secret }) => {
            // PostgreSQL closes a cancel connection without a word, match or not.
            let matched = cancel::cancel_session(pid, secret);
            tracing::debug!(pid, matched, "cancel request");
            return;
        }
        Err(hangup) => {
            report(&mut io, &mut out, hangup).await;
            return;
        }
    };
    io.startup_done();

    let key = CancelKey::issue();
    let signal = CancelSignal::default();
    let mut backend = factory.session(key.pid, signal.clone());
    let parameters = match backend.startup(&params) {
        Ok(parameters) => parameters,
        Err(e) => {
            out.fatal(&e);
            report(&mut io, &mut out, Hangup::Eof).await;
            backend.terminate().await;
            return;
        }
    };
    // Registered before BackendKeyData goes out, so the key works as soon as the
    // client has it; removed when this function returns.
    let _registration = Registration::new(key, signal);
    startup::greet(&mut out, &parameters, key, backend.transaction_status());

    let mut conn = Connection { io, out, backend, skip_until_sync: false };
    let hangup = match conn.io.flush(&mut conn.out).await {
        Ok(()) => conn.serve().await,
        Err(hangup) => hangup,
    };
    report(&mut conn.io, &mut conn.out, hangup).await;
    conn.backend.terminate().await;
}

/// Says goodbye according to why the connection ends: FATAL for a protocol violation,
/// a debug line for a socket error, nothing for Terminate or EOF.
async fn report(io: &mut Transport, out: &mut Responses, hangup: Hangup) {
    match hangup {
        Hangup::Terminate | Hangup::Eof => {}
        Hangup::Io(e) => {
            tracing::debug!("connection closed by a socket error: {e}");
            return;
        }
        Hangup::Violation(e) => {
            tracing::debug!("closing connection: {e}");
            out.fatal(&e);
        }
    }
    // Bounded: a client that stopped reading must not keep this task alive.
    match tokio::time::timeout(FAREWELL_TIMEOUT, io.flush(out)).await {
        Ok(Err(Hangup::Io(e))) => tracing::debug!("could not send the last messages: {e}"),
        Err(_) => tracing::debug!("client did not read the last messages"),
        Ok(_) => {}
    }
}

/// One session's socket side after startup.
struct Connection<B> {
    io: Transport,
    out: Responses,
    backend: B,
    /// Set by an error in the extended protocol; cleared by Sync.
    skip_until_sync: bool,
}

impl<B: Backend> Connection<B> {
    /// Runs messages until the connection must end, and says why.
    async fn serve(&mut self) -> Hangup {
        loop {
            if let Err(hangup) = self.step().await {
                return hangup;
            }
        }
    }

    async fn step(&mut self) -> Result<(), Hangup> {
        let message = self.io.read_message().await?;
        self.dispatch(message).await?;
        if self.out.len() >= FLUSH_THRESHOLD {
            self.io.flush(&mut self.out).await?;
        }
        Ok(())
    }

    async fn dispatch(&mut self, message: Msg) -> Result<(), Hangup> {
        if self.skip_until_sync && !matches!(message, Msg::Sync(_) | Msg::Terminate(_)) {
            return Ok(());
        }
        match message {
            Msg::Query(q) => self.simple_query(&q.query).await?,
            Msg::Parse(p) => {
                let name = p.name.as_deref().unwrap_or("");
                match self.backend.parse(name, &p.query, &p.type_oids).await {
                    Ok(()) => self.out.parse_complete(),
                    Err(e) => self.fail(e),
                }
            }
            Msg::Bind(b) => {
                let portal = b.portal_name.as_deref().unwrap_or("");
                let statement = b.statement_name.as_deref().unwrap_or("");
                let bound = self
                    .backend
                    .bind(
                        portal,
                        statement,
                        &b.parameter_format_codes,
                        &b.parameters,
                        &b.result_column_format_codes,
                    )
                    .await;
                match bound {
                    Ok(()) => self.out.bind_complete(),
                    Err(e) => self.fail(e),
                }
            }
            Msg::Describe(d) => {
                let name = d.name.as_deref().unwrap_or("");
                let described = match d.target_type {
                    b'S' => self.backend.describe_statement(name, &mut self.out),
                    b'P' => self.backend.describe_portal(name, &mut self.out),
                    other => Err(violation(format!("invalid DESCRIBE message subtype {other}"))),
                };
                if let Err(e) = described {
                    self.fail(e);
                }
            }
            Msg::Execute(e) => {
                // PostgreSQL reads max_rows ≤ 0 as "no limit".
                let max_rows = usize::try_from(e.max_rows).unwrap_or(0);
                let portal = e.name.as_deref().unwrap_or("");
                match self.backend.execute(portal, max_rows, &mut self.out).await {
                    Ok(Flow::CopyIn) => {
                        if self.copy_in().await? == CopyEnd::Failed {
                            self.skip_until_sync = true;
                        }
                    }
                    Ok(Flow::Done | Flow::Suspended) => {}
                    Err(e) => self.fail(e),
                }
            }
            Msg::Close(c) => {
                let name = c.name.as_deref().unwrap_or("");
                match c.target_type {
                    b'S' => {
                        self.backend.close_statement(name);
                        self.out.close_complete();
                    }
                    b'P' => {
                        self.backend.close_portal(name);
                        self.out.close_complete();
                    }
                    other => self.fail(violation(format!("invalid CLOSE message subtype {other}"))),
                }
            }
            Msg::Sync(_) => {
                self.skip_until_sync = false;
                self.backend.sync(&mut self.out).await;
                self.out.ready_for_query(self.backend.transaction_status());
                self.io.flush(&mut self.out).await?;
            }
            Msg::Flush(_) => self.io.flush(&mut self.out).await?,
            Msg::Terminate(_) => return Err(Hangup::Terminate),
            // Leftovers of a COPY that failed while the client was still sending.
            Msg::CopyData(_) | Msg::CopyDone(_) | Msg::CopyFail(_) => {}
            // `frame` only lets through the message types above; these cannot arrive.
            Msg::SslNegotiation(_)
            | Msg::Startup(_)
            | Msg::CancelRequest(_)
            | Msg::PasswordMessageFamily(_)
            | Msg::PortalSuspended(_) => {
                return Err(Hangup::Violation(violation("unexpected message after startup")));
            }
        }
        Ok(())
    }

    /// An extended-protocol step failed: report it and skip to the next Sync.
    fn fail(&mut self, e: Error) {
        self.out.error(&e);
        self.skip_until_sync = true;
    }

    async fn simple_query(&mut self, sql: &str) -> Result<(), Hangup> {
        if self.backend.query(sql, &mut self.out).await == Flow::CopyIn {
            self.copy_in().await?;
        }
        self.out.ready_for_query(self.backend.transaction_status());
        self.io.flush(&mut self.out).await
    }

    /// COPY FROM STDIN sub-protocol, entered after CopyInResponse was buffered.
    async fn copy_in(&mut self) -> Result<CopyEnd, Hangup> {
        if let Err(hangup) = self.io.flush(&mut self.out).await {
            self.abort_copy("connection lost during COPY").await;
            return Err(hangup);
        }
        // The first copy_data error; the rest of the data is read and dropped.
        let mut failure: Option<Error> = None;
        loop {
            let message = match self.io.read_message().await {
                Ok(message) => message,
                Err(hangup) => {
                    self.abort_copy("connection lost during COPY").await;
                    return Err(hangup);
                }
            };
            match message {
                Msg::CopyData(d) => {
                    if failure.is_none() {
                        if let Err(e) = self.backend.copy_data(&d.data).await {
                            failure = Some(e);
                        }
                    }
                }
                Msg::CopyDone(_) => {
                    let Some(e) = failure else {
                        self.backend.copy_done(&mut self.out).await;
                        return Ok(CopyEnd::Done);
                    };
                    self.abort_copy(&e.message).await;
                    self.out.error(&e);
                    return Ok(CopyEnd::Failed);
                }
                Msg::CopyFail(f) => {
                    match failure {
                        None => self.backend.copy_fail(&f.message, &mut self.out).await,
                        Some(e) => {
                            self.abort_copy(&e.message).await;
                            self.out.error(&e);
                        }
                    }
                    return Ok(CopyEnd::Failed);
                }
                Msg::Flush(_) | Msg::Sync(_) => {}
                Msg::Terminate(_) => {
                    self.abort_copy("connection closed during COPY").await;
                    return Err(Hangup::Terminate);
                }
                other => {
                    self.abort_copy("protocol violation during COPY").await;
                    return Err(Hangup::Violation(violation(format!(
                        "unexpected message type 0x{:02X} during COPY from stdin",
                        type_byte(&other)
                    ))));
                }
            }
        }
    }

    /// Ends a copy whose error is reported by the loop (or nobody): the session leaves
    /// copy mode through `copy_fail`, and its own 57014 report is thrown away.
    async fn abort_copy(&mut self, message: &str) {
        let mut discarded = Responses::default();
        self.backend.copy_fail(message, &mut discarded).await;
    }
}

/// How a COPY FROM STDIN ended.
#[derive(Debug, PartialEq, Eq)]
enum CopyEnd {
    /// CopyDone, handed to `copy_done`.
    Done,
    /// CopyFail, or an error from `copy_data`: an ErrorResponse was buffered.
    Failed,
}

/// The type byte of a frontend message, for error messages.
fn type_byte(message: &Msg) -> u8 {
    match message {
        Msg::Query(_) => b'Q',
        Msg::Parse(_) => b'P',
        Msg::Bind(_) => b'B',
        Msg::Describe(_) => b'D',
        Msg::Execute(_) => b'E',
        Msg::Close(_) => b'C',
        Msg::Sync(_) => b'S',
        Msg::Flush(_) => b'H',
        Msg::Terminate(_) => b'X',
        Msg::CopyData(_) => b'd',
        Msg::CopyDone(_) => b'c',
        Msg::CopyFail(_) => b'f',
        Msg::PasswordMessageFamily(_) => b'p',
        Msg::PortalSuspended(_) => b's',
        Msg::SslNegotiation(_) | Msg::Startup(_) | Msg::CancelRequest(_) => 0,
    }
}
