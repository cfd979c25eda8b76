//! One error type for the whole engine, shaped by what the caller should do.
//!
//! Every failure a client can see is an [`Error`]: a [`ErrorKind`] (what went wrong,
//! which decides what the caller does: retry, roll back, fix the statement) plus
//! PostgreSQL's message text, and optionally its DETAIL and HINT lines. The mapping from
//! kind to SQLSTATE lives in exactly one place, [`ErrorKind::sqlstate`], used at the wire
//! edge. Messages follow PostgreSQL 15's wording so that tools that match on them keep
//! working.

use std::fmt;

/// What went wrong, named by cause. Adding a kind means adding its SQLSTATE below.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 42601: the statement does not parse.
    SyntaxError,
    /// 42P01: relation does not exist.
    UndefinedTable,
    /// 42703: column does not exist.
    UndefinedColumn,
    /// 42883: no such function or operator for these argument types.
    UndefinedFunction,
    /// 42P07: relation already exists.
    DuplicateTable,
    /// 42P06: schema already exists.
    DuplicateSchema,
    /// 42939: a reserved name (a schema name starting with `pg_`).
    ReservedName,
    /// 42701: column specified more than once.
    DuplicateColumn,
    /// 42710: an object (e.g. a constraint) of that name already exists.
    DuplicateObject,
    /// 42P17: an invalid object definition (e.g. a view that reads itself).
    InvalidObjectDefinition,
    /// 42P16: e.g. multiple primary keys.
    InvalidTableDefinition,
    /// 42804: expression has the wrong type.
    DatatypeMismatch,
    /// 42846: cannot cast.
    CannotCoerce,
    /// 42803: column must appear in GROUP BY.
    GroupingError,
    /// 42P19: a malformed WITH RECURSIVE.
    InvalidRecursion,
    /// 22011: a negative substring length.
    SubstringError,
    /// 2201E: log of zero or of a negative number.
    InvalidArgumentForLog,
    /// 2201B: a regular expression that does not compile.
    InvalidRegularExpression,
    /// 2201F: power or sqrt outside their domain.
    InvalidArgumentForPowerFunction,
    /// 54000: a result too large.
    ProgramLimitExceeded,
    /// 42712: a name given twice (WITH query names, table aliases).
    DuplicateAlias,
    /// 42P02: there is no parameter $n.
    UndefinedParameter,
    /// 42P18: could not determine data type of parameter.
    IndeterminateDatatype,
    /// 42702: column reference is ambiguous.
    AmbiguousColumn,
    /// 42P10: invalid column reference (e.g. ORDER BY position out of range).
    InvalidColumnReference,
    /// 42704: undefined object (e.g. unknown type).
    UndefinedObject,
    /// 22004: null value not allowed.
    NullValueNotAllowed,
    /// 3F000: invalid schema name (a schema that does not exist).
    InvalidSchemaName,
    /// 42602: a name that does not parse (`'a..b'::regclass`).
    InvalidName,
    /// 42501: insufficient privilege.
    InsufficientPrivilege,
    /// 22P02: invalid input syntax for a type.
    InvalidTextRepresentation,
    /// 22015: an interval field does not fit.
    IntervalFieldOverflow,
    /// 22P05: a character that cannot be represented (`\u0000` in jsonb).
    UntranslatableCharacter,
    /// 22003: numeric value out of range.
    NumericValueOutOfRange,
    /// 22001: value too long for type.
    StringDataRightTruncation,
    /// 22012: division by zero.
    DivisionByZero,
    /// 22007: invalid datetime format.
    InvalidDatetimeFormat,
    /// 22008: datetime field overflow.
    DatetimeFieldOverflow,
    /// 22023: invalid parameter value.
    InvalidParameterValue,
    /// 2201G: invalid argument for width_bucket.
    InvalidArgumentForWidthBucket,
    /// 22025: invalid escape sequence (a LIKE pattern ending in its escape).
    InvalidEscapeSequence,
    /// 2202E: array subscript error (ARRAY[[1, 2], [3]]).
    ArraySubscriptError,
    /// 2201W: invalid LIMIT.
    InvalidRowCountInLimitClause,
    /// 2201X: invalid OFFSET.
    InvalidRowCountInResultOffsetClause,
    /// 22P04: bad COPY file format.
    BadCopyFileFormat,
    /// 22000: generic data exception.
    DataException,
    /// 21000: more than one row returned by a subquery used as an expression.
    CardinalityViolation,
    /// 23502: null value violates not-null constraint.
    NotNullViolation,
    /// 23505: duplicate key value violates unique constraint.
    UniqueViolation,
    /// 23514: a row violates a CHECK constraint.
    CheckViolation,
    /// 23503: a foreign key's referenced row is missing, or still referenced.
    ForeignKeyViolation,
    /// 42830: a foreign key that cannot be made (no matching unique constraint).
    InvalidForeignKey,
    /// 2200H: nextval passed a sequence's bound.
    SequenceGeneratorLimitExceeded,
    /// 428C9: an explicit value for a GENERATED ALWAYS column.
    GeneratedAlways,
    /// 2BP01: other objects depend on the one to drop.
    DependentObjectsStillExist,
    /// 42809: the object is of the wrong kind (a table where a sequence is needed).
    WrongObjectType,
    /// 25P02: current transaction is aborted.
    InFailedSqlTransaction,
    /// 25001: active SQL transaction (e.g. SET TRANSACTION ISOLATION too late).
    ActiveSqlTransaction,
    /// 25P01: no active SQL transaction.
    NoActiveSqlTransaction,
    /// 25006: read-only SQL transaction.
    ReadOnlySqlTransaction,
    /// 40001: could not serialize access.
    SerializationFailure,
    /// 40P01: deadlock detected.
    DeadlockDetected,
    /// 3B001: invalid savepoint specification (no such savepoint).
    InvalidSavepointSpecification,
    /// 55P03: lock not available (NOWAIT, lock_timeout).
    LockNotAvailable,
    /// 55000: object not in prerequisite state (e.g. running a finished portal again).
    ObjectNotInPrerequisiteState,
    /// 55006: object in use.
    ObjectInUse,
    /// 57014: canceling statement due to user request / statement timeout.
    QueryCanceled,
    /// 57P01: terminating connection due to administrator command.
    AdminShutdown,
    /// 0A000: feature not supported (yet). Refuse rather than do something weaker.
    FeatureNotSupported,
    /// 08P01: protocol violation.
    ProtocolViolation,
    /// 34000: invalid cursor (portal) name.
    InvalidCursorName,
    /// 26000: invalid SQL statement name (prepared statement).
    InvalidSqlStatementName,
    /// 42P05: prepared statement already exists.
    DuplicatePreparedStatement,
    /// 58030: I/O error; the engine is poisoned after a failed fsync.
    IoError,
    /// XX000: internal error (a bug; never a panic).
    Internal,
}

impl ErrorKind {
    /// The SQLSTATE PostgreSQL reports for this kind. The only place that knows it.
    pub fn sqlstate(self) -> &'static str {
        use ErrorKind::*;
        match self {
            SyntaxError => "42601",
            UndefinedTable => "42P01",
            UndefinedColumn => "42703",
            UndefinedFunction => "42883",
            DuplicateTable => "42P07",
            DuplicateSchema => "42P06",
            ReservedName => "42939",
            DuplicateColumn => "42701",
            DuplicateObject => "42710",
            InvalidObjectDefinition => "42P17",
            InvalidTableDefinition => "42P16",
            DatatypeMismatch => "42804",
            CannotCoerce => "42846",
            GroupingError => "42803",
            InvalidRecursion => "42P19",
            SubstringError => "22011",
            InvalidArgumentForLog => "2201E",
            InvalidRegularExpression => "2201B",
            InvalidArgumentForPowerFunction => "2201F",
            ProgramLimitExceeded => "54000",
            DuplicateAlias => "42712",
            UndefinedParameter => "42P02",
            IndeterminateDatatype => "42P18",
            AmbiguousColumn => "42702",
            InvalidColumnReference => "42P10",
            UndefinedObject => "42704",
            InvalidSchemaName => "3F000",
            InvalidName => "42602",
            NullValueNotAllowed => "22004",
            InsufficientPrivilege => "42501",
            InvalidTextRepresentation => "22P02",
            UntranslatableCharacter => "22P05",
            IntervalFieldOverflow => "22015",
            NumericValueOutOfRange => "22003",
            StringDataRightTruncation => "22001",
            DivisionByZero => "22012",
            InvalidDatetimeFormat => "22007",
            DatetimeFieldOverflow => "22008",
            InvalidParameterValue => "22023",
            InvalidEscapeSequence => "22025",
            InvalidArgumentForWidthBucket => "2201G",
            ArraySubscriptError => "2202E",
            InvalidRowCountInLimitClause => "2201W",
            InvalidRowCountInResultOffsetClause => "2201X",
            BadCopyFileFormat => "22P04",
            DataException => "22000",
            CardinalityViolation => "21000",
            NotNullViolation => "23502",
            UniqueViolation => "23505",
            CheckViolation => "23514",
            ForeignKeyViolation => "23503",
            InvalidForeignKey => "42830",
            SequenceGeneratorLimitExceeded => "2200H",
            GeneratedAlways => "428C9",
            WrongObjectType => "42809",
            DependentObjectsStillExist => "2BP01",
            InFailedSqlTransaction => "25P02",
            ActiveSqlTransaction => "25001",
            NoActiveSqlTransaction => "25P01",
            ReadOnlySqlTransaction => "25006",
            SerializationFailure => "40001",
            DeadlockDetected => "40P01",
            LockNotAvailable => "55P03",
            InvalidSavepointSpecification => "3B001",
            ObjectNotInPrerequisiteState => "55000",
            ObjectInUse => "55006",
            QueryCanceled => "57014",
            AdminShutdown => "57P01",
            FeatureNotSupported => "0A000",
            ProtocolViolation => "08P01",
            InvalidCursorName => "34000",
            InvalidSqlStatementName => "26000",
            DuplicatePreparedStatement => "42P05",
            IoError => "58030",
            Internal => "XX000",
        }
    }
}

/// A failure a client can see: kind, PostgreSQL's message, optional detail and hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong; decides the SQLSTATE and whether a retry can help.
    pub kind: ErrorKind,
    /// The primary message, in PostgreSQL's wording.
    pub message: String,
    /// The DETAIL line, if any.
    pub detail: Option<String>,
    /// The HINT line, if any.
    pub hint: Option<String>,
    /// The error's position in the query string: a 1-based character index, as
    /// PostgreSQL reports it (psql draws `LINE 1:` and a caret from it).
    pub position: Option<u32>,
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with PostgreSQL's `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), detail: None, hint: None, position: None }
    }

    /// Adds a DETAIL line.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a HINT line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the position (1-based character index in the query string).
    pub fn at(mut self, position: u32) -> Self {
        self.position = Some(position);
        self
    }

    /// Shifts a position computed within one statement by that statement's offset
    /// (in characters) in the whole Query string.
    pub fn shifted(mut self, chars_before: u32) -> Self {
        if let Some(p) = self.position.as_mut() {
            *p += chars_before;
        }
        self
    }

    /// True when running the same statement again in a new transaction can succeed
    /// (40001, 40P01): the session retries implicit statements on these.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::SerializationFailure | ErrorKind::DeadlockDetected)
    }

    /// 0A000 with `what` in PostgreSQL's style.
    pub fn unsupported(what: impl fmt::Display) -> Self {
        Error::new(ErrorKind::FeatureNotSupported, format!("{what} is not supported"))
    }

    /// 42601 with PostgreSQL's "syntax error at or near" wording when a token is known.
    pub fn syntax(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::SyntaxError, message)
    }

    /// XX000: an internal invariant broke. Reported to the client, never a panic.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// 25P02, the error every statement gets in a failed transaction block.
    pub fn in_failed_transaction() -> Self {
        Error::new(
            ErrorKind::InFailedSqlTransaction,
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    /// 40001 for a write that lost to a concurrent update (REPEATABLE READ).
    pub fn serialization_update() -> Self {
        Error::new(
            ErrorKind::SerializationFailure,
            "could not serialize access due to concurrent update",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.sqlstate())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds_are_the_serialization_ones() {
        assert!(Error::serialization_update().is_retryable());
        assert!(Error::new(ErrorKind::DeadlockDetected, "deadlock detected").is_retryable());
        assert!(!Error::new(ErrorKind::UniqueViolation, "dup").is_retryable());
        assert_eq!(ErrorKind::FeatureNotSupported.sqlstate(), "0A000");
    }
}
