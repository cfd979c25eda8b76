//! Plans: what a statement will do, bound to the catalog and typed.
//!
//! A query is a tree of relational operators ([`Rel`]) evaluated bottom-up into rows
//! (materialising: right for OLTP point queries and the catalog queries clients send;
//! streaming comes with larger scans). DML and DDL plans carry their target table and
//! bound expressions; transaction control and settings are plain variants.

use crate::catalog::{CheckDef, Column, IndexDef, TableDef};
use crate::sequence::SequenceDef;
use crate::storage::Isolation;
use crate::sync::Arc;
use crate::types::DataType;

use super::expr::Expr;
use super::functions::AggFunc;
use super::pg_catalog::VirtualTable;

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct OutCol {
    /// Name as RowDescription reports it.
    pub name: String,
    /// Type.
    pub ty: DataType,
    /// Source table oid (0 if computed).
    pub table_oid: u32,
    /// Source attribute number (0 if computed).
    pub column: i16,
}

/// How a scan finds its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// Every row.
    Full,
    /// The row whose primary key equals these values (one per key column, in key
    /// order, already of the key columns' types).
    Point(Vec<Expr>),
    /// The rows whose key in secondary index `index` equals these values (one per
    /// index column, in index order, of the columns' types).
    Index {
        /// Index name.
        index: String,
        /// The key values.
        key: Vec<Expr>,
    },
    /// The rows whose key (primary key when `index` is None, else that secondary
    /// index's) equals one of `keys` (each one value per key column): an IN list.
    /// Evaluated keys are deduplicated and read in key order.
    Keys {
        /// Secondary index name, or None for the primary key.
        index: Option<String>,
        /// The candidate keys.
        keys: Vec<Vec<Expr>>,
    },
    /// The rows in a key range, in key order (see [`KeyRange`]).
    Range(Box<KeyRange>),
}

/// A key range of the primary key or a secondary index: equality on the leading
/// `prefix.len()` key columns, then optional bounds on the next one. Rows come in key
/// order, so the planner drops an ORDER BY on those columns and may stop early.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRange {
    /// Secondary index name, or None for the primary key.
    pub index: Option<String>,
    /// Values of the leading key columns.
    pub prefix: Vec<Expr>,
    /// Lower bound on the next key column: (value, inclusive).
    pub lower: Option<(Expr, bool)>,
    /// Upper bound on the next key column: (value, inclusive).
    pub upper: Option<(Expr, bool)>,
    /// (LIMIT, OFFSET) of an ORDER BY the key order satisfies: the scan stops once
    /// LIMIT + OFFSET rows passed its filter. Only a plain query's scan uses it.
    pub stop_after: Option<(Expr, Option<Expr>)>,
}

/// Join kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// INNER / CROSS.
    Inner,
    /// LEFT OUTER.
    Left,
    /// RIGHT OUTER.
    Right,
    /// FULL OUTER.
    Full,
}

/// UNION / INTERSECT / EXCEPT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    /// UNION.
    Union,
    /// INTERSECT.
    Intersect,
    /// EXCEPT.
    Except,
}

/// An aggregate call in an Aggregate node.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    /// Which aggregate.
    pub func: AggFunc,
    /// Its argument (None for count(*)).
    pub arg: Option<Expr>,
    /// Argument type.
    pub arg_ty: DataType,
    /// Result type.
    pub result_ty: DataType,
    /// `agg(DISTINCT x)`.
    pub distinct: bool,
    /// string_agg's delimiter (over the input row).
    pub delimiter: Option<Expr>,
    /// `FILTER (WHERE …)`: only input rows it holds for are aggregated.
    pub filter: Option<Expr>,
    /// `agg(x ORDER BY …)`: the order the input rows are fed in (over the input row).
    pub order_by: Vec<SortKey>,
}

/// A sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// Evaluated on the input row.
    pub expr: Expr,
    /// DESC.
    pub desc: bool,
    /// NULLS FIRST (default: first for DESC, last for ASC).
    pub nulls_first: bool,
}

/// A relational operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Rel {
    /// Rows of a table: all its columns.
    Scan {
        /// The table.
        table: Arc<TableDef>,
        /// How rows are found.
        access: Access,
        /// Condition on the table's columns.
        filter: Option<Expr>,
    },
    /// Rows of a pg_catalog view, computed from the catalog.
    Virtual(VirtualTable),
    /// One row with no columns (SELECT without FROM).
    Single,
    /// VALUES rows.
    Values(Vec<Vec<Expr>>),
    /// `pg_sleep(seconds)`: one row of one column (void, shown as ''), after sleeping
    /// `seconds`; the sleep is an await, so statement_timeout and a cancel end it.
    Sleep(Expr),
    /// `generate_series(start, stop, step)` in FROM: one column of type `ty`.
    Series {
        /// start, stop, step (evaluated with the outer row).
        args: Vec<Expr>,
        /// int4 or int8.
        ty: DataType,
    },
    /// `unnest(array)` in FROM: one row per element (none for NULL or an empty array).
    Unnest(Expr),
    /// Nested-loop join; output = left columns ++ right columns.
    Join {
        /// Inner or left.
        kind: JoinKind,
        /// Left input.
        left: Box<Rel>,
        /// Right input (evaluated per left row when `lateral`).
        right: Box<Rel>,
        /// ON condition over the joined row.
        on: Option<Expr>,
        /// Right side reads the left row through `Expr::Outer`.
        lateral: bool,
        /// Number of left columns (for NULL-extension).
        left_width: usize,
        /// Number of right columns (for NULL-extension).
        right_width: usize,
        /// Equality keys taken from `on` (left key over the left row, right key over
        /// the right row, of the same type): when present the join hashes the smaller
        /// side on them; `on` is still checked on every candidate pair.
        equi: Vec<(Expr, Expr)>,
    },
    /// UNION / INTERSECT / EXCEPT \[ALL\] of two inputs of the same column types.
    SetOp {
        /// Which.
        op: SetOpKind,
        /// ALL (keep duplicates).
        all: bool,
        /// Left input.
        left: Box<Rel>,
        /// Right input.
        right: Box<Rel>,
    },
    /// DISTINCT ON: keeps the first row of each run of equal keys (input is sorted).
    DistinctOn {
        /// Input.
        input: Box<Rel>,
        /// Keys over the input row.
        keys: Vec<Expr>,
    },
    /// WITH RECURSIVE: `base`, then `step` over the rows the previous round added
    /// (read through [`Rel::WorkTable`] with the same id) until a round adds none.
    Recursive {
        /// Names the working table.
        id: usize,
        /// The non-recursive term.
        base: Box<Rel>,
        /// The recursive term.
        step: Box<Rel>,
        /// UNION ALL (else UNION: rows already produced are dropped).
        all: bool,
    },
    /// The working table of the [`Rel::Recursive`] with this id.
    WorkTable(usize),
    /// WHERE / HAVING.
    Filter {
        /// Input.
        input: Box<Rel>,
        /// Condition.
        pred: Expr,
    },
    /// Computes output columns.
    Project {
        /// Input.
        input: Box<Rel>,
        /// One per output column.
        exprs: Vec<Expr>,
    },
    /// GROUP BY / aggregates; output = group keys ++ aggregate results.
    Aggregate {
        /// Input.
        input: Box<Rel>,
        /// Group keys.
        group: Vec<Expr>,
        /// Aggregates.
        aggs: Vec<AggCall>,
    },
    /// ORDER BY.
    Sort {
        /// Input.
        input: Box<Rel>,
        /// Keys.
        keys: Vec<SortKey>,
    },
    /// DISTINCT over whole rows.
    Distinct(Box<Rel>),
    /// LIMIT / OFFSET.
    Limit {
        /// Input.
        input: Box<Rel>,
        /// LIMIT (NULL = all).
        limit: Option<Expr>,
        /// OFFSET.
        offset: Option<Expr>,
    },
    /// Keeps the first `n` columns (drops hidden sort columns).
    Truncate {
        /// Input.
        input: Box<Rel>,
        /// Columns kept.
        width: usize,
    },
}

/// A bound SELECT (or VALUES).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    /// The operator tree.
    pub rel: Rel,
    /// Output columns.
    pub columns: Vec<OutCol>,
    /// `FOR UPDATE`: how the rows are locked (then `rel` is not run as such).
    pub lock: Option<Box<super::locking::RowLocking>>,
}

/// A CHECK constraint bound to the table's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundCheck {
    /// Constraint name (for the 23514 message).
    pub name: String,
    /// The condition over the new row; false fails, NULL passes.
    pub expr: Expr,
}

/// Where INSERT rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// VALUES rows, one expression per target column (already cast to its type).
    Values(Vec<Vec<Expr>>),
    /// A query whose columns are cast to the target columns' types.
    Query(Box<QueryPlan>, Vec<(DataType, DataType)>),
}

/// INSERT.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertPlan {
    /// Target.
    pub table: Arc<TableDef>,
    /// Target column position for each source column.
    pub targets: Vec<usize>,
    /// Rows.
    pub source: InsertSource,
    /// DEFAULTs of the columns not in `targets`, evaluated per row.
    pub defaults: Vec<(usize, Expr)>,
    /// The table's CHECK constraints, in name order.
    pub checks: Vec<BoundCheck>,
    /// RETURNING (over the inserted row).
    pub returning: Option<Returning>,
    /// ON CONFLICT on the primary key.
    pub on_conflict: Option<OnConflict>,
}

/// Which unique key's conflicts ON CONFLICT handles (a conflict in another one is
/// 23505, as in PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arbiter {
    /// No target (DO NOTHING only): every unique key.
    Any,
    /// The primary key.
    PrimaryKey,
    /// The UNIQUE index at this position of the table's index list.
    Index(usize),
}

/// What an INSERT does with a row whose arbiter key is taken.
#[derive(Debug, Clone, PartialEq)]
pub enum OnConflict {
    /// DO NOTHING: skip the row.
    Nothing(Arbiter),
    /// DO UPDATE: expressions over the existing row followed by the proposed one
    /// (`excluded`).
    Update {
        /// The key whose conflicts it handles.
        arbiter: Arbiter,
        /// (column, new value).
        sets: Vec<(usize, Expr)>,
        /// WHERE: rows it rejects are locked but not updated.
        filter: Option<Expr>,
    },
}

/// UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePlan {
    /// Target.
    pub table: Arc<TableDef>,
    /// (column, new value over the old row), cast to the column's type.
    pub sets: Vec<(usize, Expr)>,
    /// WHERE over the table's columns.
    pub filter: Option<Expr>,
    /// How rows are found.
    pub access: Access,
    /// The table's CHECK constraints, in name order.
    pub checks: Vec<BoundCheck>,
    /// RETURNING (over the new row).
    pub returning: Option<Returning>,
    /// `FROM …`: the rows the target is joined with (see `dml_from.rs`).
    pub from: Option<Box<DmlFrom>>,
}

/// DELETE.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletePlan {
    /// Target.
    pub table: Arc<TableDef>,
    /// WHERE.
    pub filter: Option<Expr>,
    /// How rows are found.
    pub access: Access,
    /// RETURNING (over the deleted row).
    pub returning: Option<Returning>,
    /// `USING …`: the rows the target is joined with (see `dml_from.rs`).
    pub from: Option<Box<DmlFrom>>,
}

/// The FROM list of an UPDATE (USING list of a DELETE), joined to the target. With it,
/// the statement's expressions (WHERE, SET, RETURNING) read the joined row: the
/// target's columns followed by the FROM list's.
#[derive(Debug, Clone, PartialEq)]
pub struct DmlFrom {
    /// The FROM items joined together (a cross join of the comma-separated items).
    pub rel: Rel,
    /// Its number of columns.
    pub width: usize,
    /// How the target rows joining one FROM row are read, with that row as the outer
    /// row (`Expr::Outer` in the key values): the per-row key lookup of a join on the
    /// target's key. `None`: the target is read once (through the statement's own
    /// access path) and joined in memory.
    pub lookup: Option<Access>,
    /// Equality keys of the in-memory join: (over the target row, over the FROM row).
    pub equi: Vec<(Expr, Expr)>,
}

/// `RETURNING …` of INSERT, UPDATE or DELETE: expressions over the written row (the
/// new one; the old one for DELETE).
#[derive(Debug, Clone, PartialEq)]
pub struct Returning {
    /// One per output column.
    pub exprs: Vec<Expr>,
    /// The output columns.
    pub columns: Vec<OutCol>,
}

impl Returning {
    /// True if a RETURNING expression has a subquery.
    pub fn has_subquery(&self) -> bool {
        self.exprs.iter().any(Expr::has_subquery)
    }
}

/// A relation name as written: its schema if qualified (resolved through the
/// session's search path when a DDL statement runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelName {
    /// The schema given, if any.
    pub schema: Option<String>,
    /// The name (case-folded).
    pub name: String,
}

/// The modes a BEGIN or SET TRANSACTION names (`None`: not named, the default or the
/// current value stays).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxnModes {
    /// ISOLATION LEVEL ….
    pub isolation: Option<Isolation>,
    /// READ ONLY (true) or READ WRITE (false).
    pub read_only: Option<bool>,
}

/// A planned statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// SELECT / VALUES.
    Query(QueryPlan),
    /// INSERT.
    Insert(InsertPlan),
    /// UPDATE.
    Update(UpdatePlan),
    /// DELETE.
    Delete(DeletePlan),
    /// CREATE TABLE.
    CreateTable {
        /// The schema it goes into (given, or the search path's creation schema).
        schema: String,
        /// Name.
        name: String,
        /// Columns.
        columns: Vec<Column>,
        /// Primary key positions.
        primary_key: Option<Vec<usize>>,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// CHECK constraints (named).
        checks: Vec<CheckDef>,
        /// Sequences to create for SERIAL / identity columns (by column position);
        /// their names, oids and the columns' `nextval` defaults are set at execution.
        sequences: Vec<(usize, SequenceDef)>,
        /// UNIQUE constraints (their indexes).
        indexes: Vec<IndexDef>,
        /// FOREIGN KEY constraints.
        foreign_keys: Vec<crate::catalog::ForeignKeyDef>,
    },
    /// CREATE [UNIQUE] INDEX.
    CreateIndex {
        /// The table's schema (the index's too).
        schema: String,
        /// The table.
        table: String,
        /// The index (named: given, or PostgreSQL's generated `t_a_idx`).
        index: IndexDef,
        /// Whether the name was given (a generated one is made unique at execution).
        named: bool,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP INDEX.
    DropIndex {
        /// Names.
        names: Vec<RelName>,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE SEQUENCE.
    CreateSequence {
        /// The definition, its schema resolved (oid assigned at execution).
        def: SequenceDef,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP SEQUENCE.
    DropSequence {
        /// Names (case-folded).
        names: Vec<RelName>,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// DROP TABLE (names as written; missing ones checked at execution).
    DropTable {
        /// Names.
        names: Vec<RelName>,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE: drop the foreign keys of other tables that reference them.
        cascade: bool,
    },
    /// TRUNCATE.
    Truncate(Vec<Arc<TableDef>>),
    /// CREATE [OR REPLACE] VIEW (oid assigned at execution).
    CreateView {
        /// The definition, its schema resolved.
        def: crate::catalog::ViewDef,
        /// OR REPLACE.
        or_replace: bool,
    },
    /// DROP VIEW.
    DropView {
        /// Names.
        names: Vec<RelName>,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE SCHEMA [IF NOT EXISTS] name (oid assigned at execution).
    CreateSchema {
        /// Name (case-folded).
        name: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP SCHEMA [IF EXISTS] names [RESTRICT | CASCADE].
    DropSchema {
        /// Names (case-folded).
        names: Vec<String>,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE: drop what the schemas hold too.
        cascade: bool,
    },
    /// ALTER TABLE (names resolved at execution, under the DDL lock).
    AlterTable {
        /// Table name, as written.
        table: RelName,
        /// IF EXISTS.
        if_exists: bool,
        /// The actions, in order.
        actions: Vec<super::planner::AlterAction>,
    },
    /// BEGIN / START TRANSACTION (its modes, and the command tag to answer: `BEGIN` or
    /// `START TRANSACTION`).
    Begin(TxnModes, &'static str),
    /// COMMIT / END.
    Commit,
    /// ROLLBACK / ABORT.
    Rollback,
    /// SAVEPOINT name.
    Savepoint(String),
    /// RELEASE [SAVEPOINT] name.
    ReleaseSavepoint(String),
    /// ROLLBACK TO [SAVEPOINT] name.
    RollbackToSavepoint(String),
    /// SET TRANSACTION ISOLATION LEVEL … / READ ONLY / READ WRITE.
    SetTransaction(TxnModes),
    /// SET name = value (None = DEFAULT); `local` for SET LOCAL.
    Set {
        /// Parameter name (lower case).
        name: String,
        /// Value, or None for DEFAULT.
        value: Option<String>,
        /// SET LOCAL.
        local: bool,
    },
    /// RESET name / RESET ALL (None).
    Reset(Option<String>),
    /// SHOW name.
    Show(String),
    /// VACUUM of these tables (all when empty): garbage-collects old versions.
    Vacuum(Vec<Arc<TableDef>>),
    /// ANALYZE, CHECKPOINT: accepted; nothing to do (no statistics yet; every commit is
    /// already durable).
    Maintenance(&'static str),
    /// COPY table [(cols)] FROM STDIN.
    CopyFrom {
        /// Target.
        table: Arc<TableDef>,
        /// Target column positions, in input order.
        columns: Vec<usize>,
        /// `FORMAT binary`.
        binary: bool,
    },
    /// EXPLAIN: the plan's text, one line per row (rendered when planned).
    Explain(Vec<String>),
    /// An empty statement (`;`).
    Empty,
    /// PREPARE name [(types)] AS statement: the statement planned with those types.
    Prepare {
        /// The statement's name.
        name: String,
        /// The inner statement's text (re-planned after DDL).
        sql: String,
        /// The inner statement, planned.
        planned: Box<super::parse::Planned>,
        /// The PREPARE statement's own text (pg_prepared_statements shows it).
        source: String,
    },
    /// EXECUTE name [(args)]: each argument's SQL text, cast to the parameter's type
    /// when it runs.
    Execute {
        /// The statement's name.
        name: String,
        /// The arguments as SQL expressions.
        args: Vec<String>,
    },
    /// DEALLOCATE [PREPARE] name, or DEALLOCATE ALL (None).
    Deallocate(Option<String>),
    /// DISCARD ALL.
    DiscardAll,
    /// CLOSE cursor, or CLOSE ALL (None). There are no SQL cursors yet.
    CloseCursor(Option<String>),
    /// UNLISTEN channel or UNLISTEN * (no LISTEN exists, so nothing to undo).
    Unlisten,
    /// A lone call of an advisory-lock function: `SELECT pg_advisory_lock(k)`.
    Advisory(super::advisory::AdvisoryCall),
    /// A lone `SELECT set_config(name, value, is_local)`.
    SetConfig(Box<super::pg_catalog::settings::SetConfigCall>),
}

impl Plan {
    /// PostgreSQL's name for a DDL statement (`CREATE TABLE`, `DROP INDEX`, …), as its
    /// error messages say it; `None` for anything else.
    pub fn ddl_command(&self) -> Option<&'static str> {
        Some(match self {
            Plan::CreateTable { .. } => "CREATE TABLE",
            Plan::CreateIndex { .. } => "CREATE INDEX",
            Plan::DropIndex { .. } => "DROP INDEX",
            Plan::DropTable { .. } => "DROP TABLE",
            Plan::AlterTable { .. } => "ALTER TABLE",
            Plan::CreateSequence { .. } => "CREATE SEQUENCE",
            Plan::DropSequence { .. } => "DROP SEQUENCE",
            Plan::CreateView { .. } => "CREATE VIEW",
            Plan::DropView { .. } => "DROP VIEW",
            Plan::CreateSchema { .. } => "CREATE SCHEMA",
            Plan::DropSchema { .. } => "DROP SCHEMA",
            _ => return None,
        })
    }

    /// Output columns (for Describe).
    pub fn columns(&self) -> Option<Vec<OutCol>> {
        match self {
            Plan::Query(q) => Some(q.columns.clone()),
            Plan::Show(name) => Some(vec![OutCol {
                name: name.clone(),
                ty: DataType::Text,
                table_oid: 0,
                column: 0,
            }]),
            Plan::Advisory(call) => Some(vec![call.column.clone()]),
            Plan::Explain(_) => Some(vec![OutCol {
                name: "QUERY PLAN".into(),
                ty: DataType::Text,
                table_oid: 0,
                column: 0,
            }]),
            Plan::SetConfig(call) => Some(vec![call.column.clone()]),
            Plan::Insert(InsertPlan { returning: Some(r), .. })
            | Plan::Update(UpdatePlan { returning: Some(r), .. })
            | Plan::Delete(DeletePlan { returning: Some(r), .. }) => Some(r.columns.clone()),
            _ => None,
        }
    }

    /// True for the statements a failed transaction block still runs (the rest get
    /// 25P02): COMMIT, ROLLBACK and ROLLBACK TO SAVEPOINT.
    pub fn runs_in_failed_block(&self) -> bool {
        matches!(self, Plan::Commit | Plan::Rollback | Plan::RollbackToSavepoint(_))
    }

    /// True for statements that manage the transaction itself.
    pub fn is_transaction_control(&self) -> bool {
        matches!(
            self,
            Plan::Begin(..)
                | Plan::Commit
                | Plan::Rollback
                | Plan::Savepoint(_)
                | Plan::ReleaseSavepoint(_)
                | Plan::RollbackToSavepoint(_)
        )
    }
}
