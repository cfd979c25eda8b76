//! The seam between the wire protocol and a session: what a connection asks of the
//! engine ([`Backend`]) and how the engine answers ([`Responses`]).
//!
//! The connection loop (in this module's siblings) owns the socket, decodes frontend
//! messages with pgwire's codec and calls one `Backend` method per message. Every answer
//! goes into [`Responses`], an output buffer that the loop writes to the socket only at
//! Sync, Flush, the end of a simple Query, or when it grows large: one write per
//! extended-protocol round trip, as PostgreSQL does (pgwire's own handlers made 4–5).
//!
//! ```text
//!  socket ─▶ decode (pgwire codec) ─▶ Backend::{query, parse, bind, describe_*, execute,
//!                                              close_*, sync, copy_*}
//!                                          │ writes RowDescription/DataRow/CommandComplete/
//!                                          ▼ ErrorResponse/… into
//!  socket ◀── one write at Sync/Flush ◀── Responses (BytesMut)
//! ```
//!
//! Protocol rules that live in the loop, not in the session: after an error in the
//! extended protocol every message up to the next Sync is skipped; ReadyForQuery carries
//! [`Backend::transaction_status`]; COPY FROM STDIN switches the loop to reading
//! CopyData/CopyDone/CopyFail until the copy ends.

use bytes::{BufMut, BytesMut};
use pgwire::messages::data::{FieldDescription, RowDescription};
use pgwire::messages::response::{CommandComplete, ErrorResponse, NoticeResponse};
use pgwire::messages::Message;
use std::future::Future;

use crate::error::Error;

/// The ReadyForQuery status byte: `I` idle, `T` in a transaction block, `E` failed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: inside BEGIN … COMMIT.
    InBlock,
    /// `E`: inside a failed transaction block (statements get 25P02 until ROLLBACK).
    Failed,
}

impl TxnStatus {
    /// The byte sent in ReadyForQuery.
    pub fn byte(self) -> u8 {
        match self {
            TxnStatus::Idle => b'I',
            TxnStatus::InBlock => b'T',
            TxnStatus::Failed => b'E',
        }
    }
}

/// One result column as RowDescription describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// Table oid, or 0.
    pub table_oid: u32,
    /// Attribute number in that table, or 0.
    pub column: i16,
    /// Type oid.
    pub type_oid: u32,
    /// Type size (`typlen`), -1 for variable length.
    pub type_size: i16,
    /// Type modifier (`atttypmod`), -1 if none.
    pub type_modifier: i32,
    /// 0 text, 1 binary.
    pub format: i16,
}

/// How the simple-query or execute step ended, when it is not plainly done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Finished; responses are in the buffer.
    Done,
    /// Execute hit its row limit: PortalSuspended was written; the portal stays open.
    Suspended,
    /// A COPY … FROM STDIN started: CopyInResponse was written; the loop must now feed
    /// CopyData to [`Backend::copy_data`] and end with `copy_done` or `copy_fail`.
    CopyIn,
}

/// What the connection loop asks of the engine. One implementation: the session.
///
/// Methods that return `Err` leave it to the loop to write the ErrorResponse (and, in the
/// extended protocol, to skip until Sync); methods that take `out` write their own
/// responses, including errors in the middle of a multi-statement simple query.
pub trait Backend: Send {
    /// The ParameterStatus pairs to send after AuthenticationOk, in order, given the
    /// startup parameters (`user`, `database`, `application_name`, …). An `Err` refuses
    /// the connection (e.g. 3D000 unknown database) with that error.
    fn startup(&mut self, params: &[(String, String)]) -> Result<Vec<(String, String)>, Error>;

    /// A simple Query message (possibly several statements). Writes every response,
    /// errors included, but not ReadyForQuery.
    fn query(&mut self, sql: &str, out: &mut Responses) -> impl Future<Output = Flow> + Send;

    /// Parse: prepare `sql` under `name` ("" = unnamed) with the client's parameter type
    /// oids (0 or missing = infer). The loop writes ParseComplete on Ok.
    fn parse(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[u32],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Bind: make portal `portal` from statement `statement`. Parameter values are raw
    /// (text or binary per `param_formats`, PostgreSQL's 0/1/n rule). The loop writes
    /// BindComplete on Ok.
    fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: &[Option<bytes::Bytes>],
        result_formats: &[i16],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Describe of a prepared statement: ParameterDescription, then RowDescription or
    /// NoData; the session writes both.
    fn describe_statement(&mut self, name: &str, out: &mut Responses) -> Result<(), Error>;

    /// Describe of a portal: RowDescription or NoData.
    fn describe_portal(&mut self, name: &str, out: &mut Responses) -> Result<(), Error>;

    /// Execute a portal, at most `max_rows` rows (0 = all). Writes DataRows and then
    /// CommandComplete, or PortalSuspended. On error, writes nothing and returns `Err`.
    fn execute(
        &mut self,
        portal: &str,
        max_rows: usize,
        out: &mut Responses,
    ) -> impl Future<Output = Result<Flow, Error>> + Send;

    /// Close a prepared statement (a missing one is not an error).
    fn close_statement(&mut self, name: &str);

    /// Close a portal (a missing one is not an error).
    fn close_portal(&mut self, name: &str);

    /// Sync: ends the extended protocol's implicit transaction (commits it if it
    /// succeeded, rolls it back if it failed). A commit error is written to `out`.
    fn sync(&mut self, out: &mut Responses) -> impl Future<Output = ()> + Send;

    /// One CopyData chunk during COPY FROM STDIN (rows may span chunks).
    fn copy_data(&mut self, data: &[u8]) -> impl Future<Output = Result<(), Error>> + Send;

    /// CopyDone: finish the copy, writing CommandComplete `COPY n` (or the error).
    fn copy_done(&mut self, out: &mut Responses) -> impl Future<Output = ()> + Send;

    /// CopyFail from the client, or the connection broke mid-copy: abort the copy and
    /// write the error (57014 `COPY from stdin failed: <msg>`).
    fn copy_fail(&mut self, message: &str, out: &mut Responses) -> impl Future<Output = ()> + Send;

    /// The status byte for the next ReadyForQuery.
    fn transaction_status(&self) -> TxnStatus;

    /// The connection is going away (Terminate, EOF, or a protocol error): roll back any
    /// open transaction and release everything the session holds.
    fn terminate(&mut self) -> impl Future<Output = ()> + Send;
}

/// The output buffer of one connection. Messages are encoded as they are added; the
/// connection loop drains it to the socket at Sync/Flush/end of Query.
#[derive(Debug, Default)]
pub struct Responses {
    buf: BytesMut,
}

impl Responses {
    /// An empty buffer.
    pub fn new() -> Self {
        Responses { buf: BytesMut::with_capacity(8192) }
    }

    /// The encoded bytes waiting to be written.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn put<M: Message>(&mut self, m: &M) {
        // Encoding into a BytesMut only fails for oversized messages, which we never
        // build from server-side values; a failure here would be a bug, so log it.
        let start = self.buf.len();
        if let Err(e) = m.encode(&mut self.buf) {
            // pgwire writes the type byte before it checks the length: cut the fragment
            // so that the stream stays well-formed.
            self.buf.truncate(start);
            tracing::error!("encoding a backend message failed: {e}");
        }
    }

    /// RowDescription.
    pub fn row_description(&mut self, fields: &[Field]) {
        let fields = fields
            .iter()
            .map(|f| {
                FieldDescription::new(
                    f.name.clone(),
                    f.table_oid as i32,
                    f.column,
                    f.type_oid,
                    f.type_size,
                    f.type_modifier,
                    f.format,
                )
            })
            .collect();
        self.put(&RowDescription::new(fields));
    }

    /// NoData (Describe of a statement that returns no rows).
    pub fn no_data(&mut self) {
        self.buf.put_u8(b'n');
        self.buf.put_i32(4);
    }

    /// ParameterDescription.
    pub fn parameter_description(&mut self, oids: &[u32]) {
        self.buf.put_u8(b't');
        self.buf.put_i32(4 + 2 + 4 * oids.len() as i32);
        self.buf.put_i16(oids.len() as i16);
        for oid in oids {
            self.buf.put_u32(*oid);
        }
    }

    /// Starts a DataRow of `columns` fields; add each with [`Responses::field`] and end
    /// with [`Responses::end_row`].
    pub fn begin_row(&mut self, columns: usize) -> usize {
        let start = self.buf.len();
        self.buf.put_u8(b'D');
        self.buf.put_i32(0); // length, patched in end_row
        self.buf.put_i16(columns as i16);
        start
    }

    /// One field of the current DataRow (`None` = NULL).
    pub fn field(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.buf.put_i32(-1),
            Some(v) => {
                self.buf.put_i32(v.len() as i32);
                self.buf.put_slice(v);
            }
        }
    }

    /// Appends a field whose bytes are produced by `write`, without a temporary buffer.
    pub fn field_with(&mut self, write: impl FnOnce(&mut BytesMut)) {
        let at = self.buf.len();
        self.buf.put_i32(0);
        write(&mut self.buf);
        let len = (self.buf.len() - at - 4) as i32;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// Ends the DataRow started at `start`.
    pub fn end_row(&mut self, start: usize) {
        let len = (self.buf.len() - start - 1) as i32;
        self.buf[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
    }

    /// CommandComplete with `tag` (`SELECT 1`, `INSERT 0 1`, `COMMIT`, …).
    pub fn command_complete(&mut self, tag: &str) {
        self.put(&CommandComplete::new(tag.to_owned()));
    }

    /// EmptyQueryResponse.
    pub fn empty_query(&mut self) {
        self.buf.put_u8(b'I');
        self.buf.put_i32(4);
    }

    /// PortalSuspended.
    pub fn portal_suspended(&mut self) {
        self.buf.put_u8(b's');
        self.buf.put_i32(4);
    }

    /// ParseComplete.
    pub fn parse_complete(&mut self) {
        self.buf.put_u8(b'1');
        self.buf.put_i32(4);
    }

    /// BindComplete.
    pub fn bind_complete(&mut self) {
        self.buf.put_u8(b'2');
        self.buf.put_i32(4);
    }

    /// CloseComplete.
    pub fn close_complete(&mut self) {
        self.buf.put_u8(b'3');
        self.buf.put_i32(4);
    }

    /// CopyInResponse of `columns` columns, in binary (every column) or text format.
    pub fn copy_in_response(&mut self, columns: usize, binary: bool) {
        self.buf.put_u8(b'G');
        self.buf.put_i32(4 + 1 + 2 + 2 * columns as i32);
        self.buf.put_i8(i8::from(binary));
        self.buf.put_i16(columns as i16);
        for _ in 0..columns {
            self.buf.put_i16(i16::from(binary));
        }
    }

    /// ParameterStatus (sent after a SET of a reported parameter).
    pub fn parameter_status(&mut self, name: &str, value: &str) {
        self.buf.put_u8(b'S');
        self.buf.put_i32(4 + name.len() as i32 + 1 + value.len() as i32 + 1);
        self.buf.put_slice(name.as_bytes());
        self.buf.put_u8(0);
        self.buf.put_slice(value.as_bytes());
        self.buf.put_u8(0);
    }

    /// ReadyForQuery with `status`.
    pub fn ready_for_query(&mut self, status: TxnStatus) {
        self.buf.put_u8(b'Z');
        self.buf.put_i32(5);
        self.buf.put_u8(status.byte());
    }

    /// ErrorResponse for `err` (severity ERROR).
    pub fn error(&mut self, err: &Error) {
        self.put(&ErrorResponse::new(report_fields("ERROR", err)));
    }

    /// ErrorResponse with severity FATAL (the connection closes after it).
    pub fn fatal(&mut self, err: &Error) {
        self.put(&ErrorResponse::new(report_fields("FATAL", err)));
    }

    /// NoticeResponse with severity NOTICE, SQLSTATE 00000 unless `code` says otherwise,
    /// and a DETAIL if one is given.
    pub fn notice(&mut self, code: &str, message: &str, detail: Option<&str>) {
        let mut fields = vec![
            (b'S', "NOTICE".to_owned()),
            (b'V', "NOTICE".to_owned()),
            (b'C', code.to_owned()),
            (b'M', message.to_owned()),
        ];
        if let Some(d) = detail {
            fields.push((b'D', d.to_owned()));
        }
        self.put(&NoticeResponse::new(fields));
    }

    /// A WARNING notice (e.g. "there is no transaction in progress", 25P01).
    pub fn warning(&mut self, code: &str, message: &str) {
        let fields = vec![
            (b'S', "WARNING".to_owned()),
            (b'V', "WARNING".to_owned()),
            (b'C', code.to_owned()),
            (b'M', message.to_owned()),
        ];
        self.put(&NoticeResponse::new(fields));
    }
}

fn report_fields(severity: &str, err: &Error) -> Vec<(u8, String)> {
    let mut fields = vec![
        (b'S', severity.to_owned()),
        (b'V', severity.to_owned()),
        (b'C', err.kind.sqlstate().to_owned()),
        (b'M', err.message.clone()),
    ];
    if let Some(d) = &err.detail {
        fields.push((b'D', d.clone()));
    }
    if let Some(h) = &err.hint {
        fields.push((b'H', h.clone()));
    }
    if let Some(p) = err.position {
        fields.push((b'P', p.to_string()));
    }
    fields
}
