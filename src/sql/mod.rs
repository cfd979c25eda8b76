//! SQL: from text to plans to rows.
//!
//! # The life of a statement
//! Following `UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2`
//! sent by `pgbench -M prepared`:
//!
//! 1. `wire::connection` decodes Parse and calls `Backend::parse` on the session
//!    (`session::Session`), which calls [`parse::plan_statement`]: sqlparser parses
//!    it and [`planner::Planner`] binds it: `abalance` is column 2, `$1` is inferred as
//!    int4 from `abalance + $1`, `$2` as int4 from `aid = $2`; since `aid` is the primary
//!    key, [`planner::point_access`] (`planner/access.rs`) picks `Access::Point`
//!    (equality on every column of a secondary index would pick `Access::Index`, an IN
//!    list `Access::Keys`, a range or an ORDER BY … LIMIT on key columns `Access::Range`;
//!    all are read by [`access::read`]). The session stores the plan as prepared
//!    statement `P_1`.
//! 2. Bind: the session converts the text parameters to int4 values and makes a portal.
//! 3. Execute: the session starts (or continues) a transaction: a fresh `TxnStatus`,
//!    a snapshot from `txn::Watermark::begin_snapshot` (READ COMMITTED: per statement),
//!    and calls [`dml::update`]: it encodes the key and sends `Latest` to the table's
//!    storage actor (`storage::TableStore::latest`), which answers with the version to
//!    build on (or `Blocked(T)`: the session waits for T in the LockManager, may fail
//!    40P01, and asks again). The session re-checks the WHERE on that row, evaluates
//!    `abalance + $1`, and sends `Put` (`storage::TableStore::put`), which installs the
//!    new version, pointing at the transaction's status, unless the row changed in
//!    between. The new image goes into the write set.
//! 4. COMMIT (or Sync of an implicit transaction): the session sends `txn::Commit` with
//!    the write set to the TxnManager actor, which gives it a commit timestamp and hands
//!    the record to the WalWriter thread; the WalWriter persists its whole group in one
//!    fjall batch and one fsync; the TxnManager then publishes the timestamp in the
//!    status (the versions become visible all at once), releases the transaction's
//!    locks in the LockManager (waking writers blocked by its versions), advances the
//!    watermark, and replies. The wire writes CommandComplete and ReadyForQuery in one
//!    socket write.
//!
//! A write to a table with FOREIGN KEYs, or to one they reference, runs
//! [`foreign_keys`] after each row: [`foreign_keys::check_references`] locks the parent
//! row FOR KEY SHARE (23503 if it is missing), [`foreign_keys::on_parent_write`] finds
//! the referencing rows and errs, cascades, or sets them NULL / DEFAULT. The UPDATE above
//! changes no key column, so it holds its row FOR NO KEY UPDATE and blocks no such check
//! (`dml::write_mode`; the strengths are in `storage/mvcc.rs`).
//!
//! An UPDATE that sets the primary key sends `MoveOut` instead of `Put`
//! (`storage::TableStore::move_out`): a deletion marked moved at the old key; the new
//! image is then inserted at the new key (`dml.rs` explains the rules).
//!
//! A SELECT takes the same first hops; [`exec::run`] then evaluates its [`plan::Rel`]
//! tree bottom-up. Joins go through [`join::join_rows`] (hashing the smaller side on
//! the equality keys the planner found), set operations through [`setop::set_op`];
//! a subquery in an expression (`expr::SubPlan`) is run by `exec` before the
//! expression is evaluated on a row — once per statement if uncorrelated, once per
//! row if it reads the enclosing row — and WITH RECURSIVE loops over its working table
//! (stopping early under a LIMIT directly above it, as PostgreSQL's lazy evaluation
//! does). `pg_sleep` is such a subquery too (`Rel::Sleep`), so that its sleep is an
//! await that statement_timeout and a CancelRequest can end.
//!
//! A view in FROM is expanded by the planner (`planner/view.rs`): its stored text is
//! bound again and its recorded columns picked out, like a subquery in FROM. DDL plans
//! carry names, resolved when the statement runs under the engine's DDL lock: ALTER
//! TABLE applies its actions with `planner::apply_alter` (sans IO; what they do to
//! foreign keys, the table's own and those referencing it, is `planner/alter_fk.rs`),
//! then `session/alter.rs` retires the table's store and those of the tables that
//! change with it (a referencing child, an added key's parent), checks an added
//! foreign key against the rows (`foreign_keys::check_existing`), rewrites the rows
//! under new storage ids and commits definitions and rows in one WAL record. Names
//! resolve through the session's search path (`catalog::namespace::SearchPath`,
//! computed per statement; a cached plan made under another path is planned again):
//! the planner picks the schema of a CREATE (`Planner::creation_schema`) and of every
//! name it binds; DROP and ALTER names are resolved by the session when they run
//! (`Session::resolve_target`). Stored definitions keep what their names found at
//! creation: a view's unqualified names stand for the relations it read then
//! (`catalog/view.rs`), a DEFAULT's sequence is written schema-qualified
//! (`session/defaults.rs`); whether a relation is *visible* on the path
//! (`pg_table_is_visible`, regclass output, names in messages) is
//! `pg_catalog/visibility.rs`.
//!
//! An UPDATE with a FROM list (DELETE with USING) or with subqueries takes step 3
//! through [`dml_from`] instead: it finds (target key, FROM row) pairs first — a key
//! lookup on the target per FROM row when the join is on the target's key — then
//! writes each with a `Latest` → subqueries → re-check → `Put` loop, since a subquery
//! cannot run inside the synchronous row closure of [`dml::update`].

pub mod access;
pub mod advisory;
pub mod builtins;
pub mod constraints;
pub mod dml;
pub mod dml_from;
pub mod exec;
pub mod expr;
pub mod foreign_keys;
pub mod functions;
pub mod join;
pub mod locking;
pub mod parse;
pub mod pg_catalog;
pub mod plan;
pub mod planner;
pub mod prepare;
pub mod setop;

pub use parse::{plan_statement, split, Planned};
pub use planner::serializable_refused;
