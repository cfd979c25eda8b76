//! Framing: cutting whole frontend messages off the read buffer, checking their shape,
//! and decoding them with pgwire's codec. Sans-IO: bytes in, messages or an error out.
//!
//! ```text
//!  startup phase:   [len:i32][code:i32][body…]       len ∈ 8..=10000
//!  after startup:   [type:u8][len:i32][body…]        len ≥ 4, ≤ 10000 or ≤ 1 GiB − 1
//! ```
//!
//! Why not hand the read buffer to `PgWireFrontendMessage::decode` directly: its body
//! decoders trust the length field. They read past a short frame into the next message,
//! panic on a truncated body (`Buf::get_i32`), and leave trailing bytes of a long frame
//! in the stream. So each message is first cut to its declared length, its fields are
//! walked with bounds checks ([`check_body`], PostgreSQL's `pq_getmsg*` rules, including
//! "no bytes left over"), and only then is the frame, alone, given to pgwire. A message
//! that fails any of this is a protocol violation (08P01), which closes the connection.

use bytes::{Buf, BytesMut};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::{GssEncRequest, SslRequest, Startup};
use pgwire::messages::{DecodeContext, Message, PgWireFrontendMessage};

use crate::error::{Error, ErrorKind};

/// Largest startup-phase packet (PostgreSQL's `MAX_STARTUP_PACKET_LENGTH`).
const MAX_STARTUP_PACKET: usize = 10_000;
/// Largest Query, Parse, Bind or CopyData message (PostgreSQL's `PQ_LARGE_MESSAGE_LIMIT`,
/// also pgwire's limit for these types).
const LARGE_MESSAGE_LIMIT: usize = 0x3fff_fffe;
/// Largest message of any other type (PostgreSQL's `PQ_SMALL_MESSAGE_LIMIT`).
const SMALL_MESSAGE_LIMIT: usize = 10_000;

/// The first packet(s) of a connection.
#[derive(Debug)]
pub(crate) enum StartupPacket {
    /// SSLRequest: answer `N`, then expect another startup packet.
    SslRequest,
    /// GSSENCRequest: answer `N`, then expect another startup packet.
    GssEncRequest,
    /// StartupMessage (protocol 3.x).
    Startup(Startup),
    /// CancelRequest for session `pid` with `secret`.
    Cancel {
        /// Target session.
        pid: i32,
        /// Its secret from BackendKeyData.
        secret: i32,
    },
}

/// A protocol violation (08P01) with PostgreSQL's wording.
pub(crate) fn violation(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::ProtocolViolation, message)
}

/// Cuts the next startup-phase packet off `buf`; `None` until it is complete.
pub(crate) fn next_startup_packet(buf: &mut BytesMut) -> Result<Option<StartupPacket>, Error> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let len = usize::try_from(len).unwrap_or(0);
    if !(8..=MAX_STARTUP_PACKET).contains(&len) {
        return Err(violation("invalid length of startup packet"));
    }
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(len);
    if SslRequest::is_ssl_request_packet(&frame) {
        return Ok(Some(StartupPacket::SslRequest));
    }
    if GssEncRequest::is_gss_enc_request_packet(&frame) {
        return Ok(Some(StartupPacket::GssEncRequest));
    }
    // Protocol 3.0 decoding makes pgwire read the 4-byte secret as an i32.
    let ctx = DecodeContext::new(pgwire::messages::ProtocolVersion::PROTOCOL3_0);
    if CancelRequest::is_cancel_request_packet(&frame) {
        let request = CancelRequest::decode(&mut frame, &ctx)
            .ok()
            .flatten()
            .ok_or_else(|| violation("invalid cancel request packet"))?;
        let secret = request
            .secret_key
            .as_i32()
            .ok_or_else(|| violation("invalid cancel request packet"))?;
        return Ok(Some(StartupPacket::Cancel { pid: request.pid, secret }));
    }
    let major = u16::from_be_bytes([frame[4], frame[5]]);
    let minor = u16::from_be_bytes([frame[6], frame[7]]);
    if major != 3 {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            format!("unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0"),
        ));
    }
    match Startup::decode(&mut frame, &ctx) {
        Ok(Some(startup)) => Ok(Some(StartupPacket::Startup(startup))),
        _ => Err(violation("invalid startup packet layout")),
    }
}

/// Cuts the next regular message off `buf` and decodes it; `None` until it is complete.
/// Reserves room in `buf` for the rest of a partly received message.
pub(crate) fn next_message(
    buf: &mut BytesMut,
    ctx: &DecodeContext,
) -> Result<Option<PgWireFrontendMessage>, Error> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let tag = buf[0];
    let limit = match tag {
        b'Q' | b'P' | b'B' | b'd' => LARGE_MESSAGE_LIMIT,
        b'D' | b'C' | b'E' | b'H' | b'S' | b'X' | b'c' | b'f' => SMALL_MESSAGE_LIMIT,
        _ => return Err(violation(format!("invalid frontend message type {tag}"))),
    };
    let len = i32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    let len = usize::try_from(len).unwrap_or(0);
    if !(4..=limit).contains(&len) {
        return Err(violation("invalid message length"));
    }
    if buf.len() < 1 + len {
        buf.reserve(1 + len - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(1 + len);
    check_body(tag, &frame[5..])?;
    match PgWireFrontendMessage::decode(&mut frame, ctx) {
        Ok(Some(message)) => Ok(Some(message)),
        Ok(None) | Err(_) => Err(violation("invalid message format")),
    }
}

/// Checks that `body` holds exactly the fields of a message of type `tag`, so that
/// pgwire's decoder (which does not check bounds) cannot run off its end.
fn check_body(tag: u8, body: &[u8]) -> Result<(), Error> {
    let mut b = Fields(body);
    match tag {
        b'Q' | b'f' => b.cstring()?,
        b'P' => {
            b.cstring()?;
            b.cstring()?;
            let n = b.count()?;
            b.skip(4 * n)?;
        }
        b'B' => {
            b.cstring()?;
            b.cstring()?;
            let formats = b.count()?;
            b.skip(2 * formats)?;
            for _ in 0..b.count()? {
                match b.i32()? {
                    -1 => {}
                    n if n >= 0 => b.skip(n as usize)?,
                    _ => return Err(violation("invalid argument length in Bind message")),
                }
            }
            let formats = b.count()?;
            b.skip(2 * formats)?;
        }
        b'D' | b'C' => {
            b.skip(1)?;
            b.cstring()?;
        }
        b'E' => {
            b.cstring()?;
            b.i32()?;
        }
        b'd' => b.0 = &[],
        _ => {} // H, S, X, c: no body
    }
    if !b.0.is_empty() {
        return Err(violation("invalid message format"));
    }
    Ok(())
}

/// A bounds-checked cursor over a message body.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn skip(&mut self, n: usize) -> Result<(), Error> {
        if self.0.len() < n {
            return Err(violation("insufficient data left in message"));
        }
        self.0.advance(n);
        Ok(())
    }

    fn i32(&mut self) -> Result<i32, Error> {
        if self.0.len() < 4 {
            return Err(violation("insufficient data left in message"));
        }
        Ok(self.0.get_i32())
    }

    /// An int16 count, which PostgreSQL rejects when negative.
    fn count(&mut self) -> Result<usize, Error> {
        if self.0.len() < 2 {
            return Err(violation("insufficient data left in message"));
        }
        usize::try_from(self.0.get_i16()).map_err(|_| violation("invalid message format"))
    }

    fn cstring(&mut self) -> Result<(), Error> {
        match self.0.iter().position(|&c| c == 0) {
            Some(end) => {
                self.0.advance(end + 1);
                Ok(())
            }
            None => Err(violation("invalid string in message")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::BufMut;
    use pgwire::messages::extendedquery::{Bind, Execute, Parse, Sync};

    fn ctx() -> DecodeContext {
        let mut ctx = DecodeContext::new(pgwire::messages::ProtocolVersion::PROTOCOL3_0);
        ctx.awaiting_frontend_ssl = false;
        ctx.awaiting_frontend_startup = false;
        ctx
    }

    #[test]
    fn pipelined_messages_come_out_one_by_one_and_partial_waits() {
        let mut wire = BytesMut::new();
        Parse::new(Some("s".into()), "SELECT $1".into(), vec![23]).encode(&mut wire).unwrap();
        Bind::new(None, Some("s".into()), vec![0], vec![Some("7".into())], vec![0])
            .encode(&mut wire)
            .unwrap();
        Execute::new(None, 2).encode(&mut wire).unwrap();
        Sync::new().encode(&mut wire).unwrap();

        let mut buf = BytesMut::from(&wire[..wire.len() - 1]);
        let mut got = Vec::new();
        while let Some(m) = next_message(&mut buf, &ctx()).unwrap() {
            got.push(m);
        }
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], PgWireFrontendMessage::Parse(p) if p.type_oids == [23]));
        assert!(matches!(&got[2], PgWireFrontendMessage::Execute(e) if e.max_rows == 2));
        buf.put_u8(*wire.last().unwrap());
        assert!(matches!(
            next_message(&mut buf, &ctx()).unwrap(),
            Some(PgWireFrontendMessage::Sync(_))
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn malformed_messages_are_violations_not_panics() {
        let cases: &[&[u8]] = &[
            b"\x00\x00\x00\x00\x08abcd",            // unknown type 0
            b"Q\x00\x00\x00\x02",                   // length below 4
            b"Q\xff\xff\xff\xff",                   // negative length
            b"E\x00\x00\x00\x04",                   // Execute without its fields
            b"E\x00\x00\x00\x07ab\x00",             // Execute cut short
            b"S\x00\x00\x00\x05x",                  // Sync with a stray byte
            b"P\x00\x00\x00\x0as\x00q\x00\x00\x05", // Parse: 5 oids announced, none sent
            b"B\x00\x00\x00\x0e\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09", // Bind param overruns
            b"Q\x00\x00\x00\x08abcd",               // Query without its NUL
        ];
        for case in cases {
            let mut buf = BytesMut::from(*case);
            let err = next_message(&mut buf, &ctx()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::ProtocolViolation, "case {case:?}");
        }
        let mut huge = BytesMut::from(&b"S\x00\x10\x00\x00"[..]);
        assert!(next_message(&mut huge, &ctx()).is_err(), "oversize small message");
    }

    #[test]
    fn startup_packets_are_classified() {
        let mut buf = BytesMut::new();
        buf.put_i32(8);
        buf.put_i32(80877103);
        let mut startup = Startup::new();
        startup.parameters.insert("user".into(), "u".into());
        startup.encode(&mut buf).unwrap();
        buf.put_i32(16);
        buf.put_i32(80877102);
        buf.put_i32(42);
        buf.put_i32(-7);
        assert!(matches!(next_startup_packet(&mut buf).unwrap(), Some(StartupPacket::SslRequest)));
        assert!(matches!(
            next_startup_packet(&mut buf).unwrap(),
            Some(StartupPacket::Startup(s)) if s.parameters["user"] == "u"
        ));
        assert!(matches!(
            next_startup_packet(&mut buf).unwrap(),
            Some(StartupPacket::Cancel { pid: 42, secret: -7 })
        ));
        assert!(next_startup_packet(&mut buf).unwrap().is_none());

        let mut v2 = BytesMut::new();
        v2.put_i32(9);
        v2.put_i32(0x0002_0000);
        v2.put_u8(0);
        assert_eq!(next_startup_packet(&mut v2).unwrap_err().kind, ErrorKind::FeatureNotSupported);
    }
}
