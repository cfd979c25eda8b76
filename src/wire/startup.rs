//! Connection start: SSL/GSS refusal, StartupMessage, protocol negotiation, and the
//! greeting (AuthenticationOk, ParameterStatus…, BackendKeyData, ReadyForQuery).
//!
//! ```text
//!  client                                server
//!  [SSLRequest]           ───▶           'N'           (also GSSENCRequest → 'N')
//!  StartupMessage 3.x     ───▶
//!                         ◀───  [NegotiateProtocolVersion 3.0, unknown _pq_.*]
//!                               AuthenticationOk (trust)
//!                               ParameterStatus × n     (from Backend::startup)
//!                               BackendKeyData(pid, secret)
//!                               ReadyForQuery            — one write
//!  or: CancelRequest(pid, secret) ──▶ cancel that session; close without a reply
//! ```
//!
//! Authentication is trust only: there are no passwords to check.

use pgwire::messages::startup::{
    Authentication, BackendKeyData, NegotiateProtocolVersion, ParameterStatus, SecretKey,
};
use pgwire::messages::Message;

use super::cancel::CancelKey;
use super::frame::{violation, StartupPacket};
use super::transport::{Hangup, Transport};
use super::{Responses, TxnStatus};

/// Protocol 3.0 as PostgreSQL encodes it (`PG_PROTOCOL(3, 0)`): the version 15 sends in
/// NegotiateProtocolVersion as "the newest version I support".
const PROTOCOL_3_0: i32 = 3 << 16;

/// What the first packets asked for.
#[derive(Debug)]
pub(crate) enum Opening {
    /// A session with these startup parameters (`user`, `database`, …), sorted by name
    /// (pgwire keeps them in a map), minus the `_pq_.` protocol options.
    Session(Vec<(String, String)>),
    /// A CancelRequest for another session.
    Cancel {
        /// Target session.
        pid: i32,
        /// Its secret.
        secret: i32,
    },
}

/// Reads packets until a StartupMessage or CancelRequest, refusing SSL and GSS
/// encryption on the way. May leave a NegotiateProtocolVersion in `out`.
pub(crate) async fn open(io: &mut Transport, out: &mut Responses) -> Result<Opening, Hangup> {
    let (mut ssl_done, mut gss_done) = (false, false);
    loop {
        match io.read_startup_packet().await? {
            StartupPacket::SslRequest if !ssl_done => {
                ssl_done = true;
                io.write_raw(b"N").await?;
            }
            StartupPacket::GssEncRequest if !gss_done => {
                gss_done = true;
                io.write_raw(b"N").await?;
            }
            StartupPacket::SslRequest | StartupPacket::GssEncRequest => {
                return Err(Hangup::Violation(violation("unsupported frontend protocol")));
            }
            StartupPacket::Cancel { pid, secret } => return Ok(Opening::Cancel { pid, secret }),
            StartupPacket::Startup(startup) => {
                let mut params = Vec::with_capacity(startup.parameters.len());
                let mut unknown_options = Vec::new();
                for (name, value) in startup.parameters {
                    if name.starts_with("_pq_.") {
                        unknown_options.push(name);
                    } else {
                        params.push((name, value));
                    }
                }
                // PostgreSQL 15 speaks 3.0 only; a 3.x client is told so, with the
                // protocol options it asked for and will not get, and carries on at 3.0.
                if startup.protocol_number_minor > 0 || !unknown_options.is_empty() {
                    put(out, &NegotiateProtocolVersion::new(PROTOCOL_3_0, unknown_options));
                }
                return Ok(Opening::Session(params));
            }
        }
    }
}

/// The greeting after a successful `Backend::startup`.
pub(crate) fn greet(
    out: &mut Responses,
    parameters: &[(String, String)],
    key: CancelKey,
    status: TxnStatus,
) {
    put(out, &Authentication::Ok);
    for (name, value) in parameters {
        put(out, &ParameterStatus::new(name.clone(), value.clone()));
    }
    put(out, &BackendKeyData::new(key.pid, SecretKey::I32(key.secret)));
    out.ready_for_query(status);
}

fn put<M: Message>(out: &mut Responses, message: &M) {
    // Only oversized messages fail to encode; a parameter value that long is a bug in
    // the session, so it is logged and left out rather than taking the server down.
    let start = out.len();
    if let Err(e) = message.encode(out.buffer()) {
        // pgwire writes the type byte before it checks the length: cut the fragment.
        out.buffer().truncate(start);
        tracing::error!("encoding a startup message failed: {e}");
    }
}
