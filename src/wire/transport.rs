//! The socket of one connection: a reusable read buffer that [`frame`](super::frame) cuts
//! messages from, and whole-buffer writes of [`Responses`].

use std::io;

use bytes::BytesMut;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::frame::{self, StartupPacket};
use super::Responses;
use crate::error::Error;

/// Bytes asked of the socket per read when the buffer has little room left.
const READ_CHUNK: usize = 16 * 1024;
/// After a write, an output buffer grown past this is dropped, so that one huge result
/// does not pin its memory for the rest of the connection.
const KEEP_OUTPUT_CAPACITY: usize = 4 * 1024 * 1024;

/// Why a connection stops.
#[derive(Debug)]
pub(crate) enum Hangup {
    /// The client sent Terminate.
    Terminate,
    /// The client closed the socket.
    Eof,
    /// The socket failed.
    Io(io::Error),
    /// The client broke the protocol: report FATAL with this error, then close.
    Violation(Error),
}

impl From<io::Error> for Hangup {
    fn from(e: io::Error) -> Self {
        Hangup::Io(e)
    }
}

/// Socket plus read buffer plus pgwire's decoding state.
pub(crate) struct Transport {
    stream: TcpStream,
    input: BytesMut,
    ctx: DecodeContext,
}

impl Transport {
    /// Wraps an accepted socket, in the startup phase.
    pub fn new(stream: TcpStream) -> Transport {
        Transport {
            stream,
            input: BytesMut::with_capacity(READ_CHUNK),
            ctx: DecodeContext::new(ProtocolVersion::PROTOCOL3_0),
        }
    }

    /// Leaves the startup phase: from now on messages carry a type byte.
    pub fn startup_done(&mut self) {
        self.ctx.awaiting_frontend_ssl = false;
        self.ctx.awaiting_frontend_startup = false;
    }

    /// The next startup-phase packet.
    pub async fn read_startup_packet(&mut self) -> Result<StartupPacket, Hangup> {
        loop {
            if let Some(packet) =
                frame::next_startup_packet(&mut self.input).map_err(Hangup::Violation)?
            {
                return Ok(packet);
            }
            self.fill().await?;
        }
    }

    /// The next regular message.
    pub async fn read_message(&mut self) -> Result<PgWireFrontendMessage, Hangup> {
        loop {
            if let Some(message) =
                frame::next_message(&mut self.input, &self.ctx).map_err(Hangup::Violation)?
            {
                return Ok(message);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), Hangup> {
        if self.input.capacity() - self.input.len() < READ_CHUNK / 4 {
            self.input.reserve(READ_CHUNK);
        }
        match self.stream.read_buf(&mut self.input).await? {
            0 => Err(Hangup::Eof),
            _ => Ok(()),
        }
    }

    /// Writes everything buffered in `out` in one `write_all`, and empties it.
    pub async fn flush(&mut self, out: &mut Responses) -> Result<(), Hangup> {
        if out.is_empty() {
            return Ok(());
        }
        self.stream.write_all(out.buffer()).await?;
        if out.buffer().capacity() > KEEP_OUTPUT_CAPACITY {
            *out = Responses::new();
        } else {
            out.buffer().clear();
        }
        Ok(())
    }

    /// Writes raw bytes now (the one-byte answer to SSLRequest).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), Hangup> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }
}
