//! A partition: the sans-IO core a storage actor owns. Plain data and rules, no
//! channels, no locks, no clock: the actor (`actor.rs`) turns each request into one
//! call here and sends back what it returns.
//!
//! ```text
//!   Partition ─ index: dyn PartitionIndex (key → Chain) ─ Chain: [v0 | v1 | v2 …]
//! ```
//! The rules (DESIGN §3):
//! * **Reads** see, per key, the newest version visible to their [`ReadView`].
//! * **Row locks** are the uncommitted top version of a chain, as PostgreSQL keeps them
//!   in tuple headers, plus the chain's `locks` of locking reads (several sharers at
//!   once; strengths and conflicts in `mvcc.rs`): a writer or locker that finds a
//!   conflicting holder gets `Blocked(holder)` and waits for it in the LockManager.
//! * **Writes are compare-and-set, in two steps**, so that the WHERE re-check and the
//!   SET expressions are evaluated in the session, never in the actor:
//!   [`Partition::latest`] returns the version a write builds on (READ COMMITTED: the
//!   newest committed one, EvalPlanQual; REPEATABLE READ: 40001 if it is newer than the
//!   snapshot), the session computes the new image, and [`Partition::put`] installs it
//!   only if that version is still the one to build on, else answers `Changed` and the
//!   session starts over. The race, written out:
//!   ```text
//!   [T1] latest(k) → v1        [T2] latest(k) → v1
//!   [T1] put(k, expect v1) → Written (T1's version is on top: T1 holds the row)
//!                              [T2] put(k, expect v1) → Changed
//!                              [T2] latest(k) → Blocked(T1) → waits for T1 to end
//!   ```
//! * **Retired**: while DDL replaces or drops the table, every write is refused with a
//!   retryable 40001, so no write lands in a store about to be discarded.

mod indexed;
mod split;

use std::ops::Bound;

use rustc_hash::FxHashSet;

pub use indexed::IndexBuildError;

use super::index::{IndexKind, Key, PartitionIndex};
use super::mvcc::{Chain, ReadView, Row, RowLockMode, Version};
use super::secondary::SecondaryIndex;
use super::Isolation;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::Arc;
use crate::txn::{CommitTs, State, TxnId, TxnStatus};

/// Keys visited per [`Partition::scan`] batch and per vacuum chunk: bounds how long one
/// request keeps the actor from the next.
pub const BATCH_KEYS: usize = 1024;

/// The version a write builds on ([`Partition::latest`]).
#[derive(Debug, Clone)]
pub enum Latest {
    /// Build on this version's row, then `put` with it as the expectation.
    Row(Version),
    /// Nothing to write: the row is not visible to the statement, was deleted since, or
    /// does not exist.
    Skipped,
    /// Another transaction's uncommitted version is on top: wait for it, then retry.
    Blocked(TxnId),
}

/// What [`Partition::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The new version is on top; the writer holds the row until it ends.
    Written,
    /// The version the write built on is no longer the one to build on: start over.
    Changed,
    /// Another transaction's uncommitted version holds the new row's UNIQUE key: wait
    /// for it, then start over.
    Blocked(TxnId),
    /// A live row already has the new row's key in the UNIQUE index at this position of
    /// the table's index list (23505).
    Unique(usize),
}

/// A change to one row that the storage actor can apply itself, so that a whole row
/// write is one request (`Partition::update`): the statement's WHERE re-check and SET
/// expressions, made `'static` by the session. `None` skips the row (it no longer
/// matches), `Some(None)` deletes it, `Some(Some(new))` replaces it.
pub trait RowChange: Send + Sync + std::fmt::Debug {
    /// Applies the change to the version the write builds on.
    fn apply(&self, old: &Row) -> Result<Option<Option<Row>>>;

    /// The strength the write holds the row with (NO KEY UPDATE when no key column
    /// changes); FOR UPDATE unless the change knows better.
    fn mode(&self, _old: &Row, _new: Option<&Row>) -> RowLockMode {
        RowLockMode::Update
    }
}

/// What [`Partition::update`] did.
#[derive(Debug, Clone)]
pub enum Updated {
    /// Written: the row it built on, and the new one (`None`: deleted).
    Written(Row, Option<Row>),
    /// Nothing to write (not visible, deleted since, or no longer matching).
    Skipped,
    /// Another transaction's uncommitted version holds the row (or the new row's UNIQUE
    /// key): wait for it, then send the request again.
    Blocked(TxnId),
    /// The new row's key is taken in the UNIQUE index at this position (23505): the
    /// row it built on, and the new one.
    Unique(usize, Row, Option<Row>),
}

/// Why [`Partition::insert`] stopped before the end of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertConflict {
    /// A live row already has this key (23505).
    Duplicate,
    /// A live row already has this row's key in the UNIQUE index at this position of
    /// the table's index list (23505).
    Unique(usize),
    /// Another transaction's uncommitted version is here: wait for it, retry.
    Blocked(TxnId),
    /// The table is being rewritten or dropped (retryable).
    Retired,
}

/// An insert batch refused at row `at` (the rows before it were inserted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Index in the batch of the row that was not inserted.
    pub at: usize,
    /// Why.
    pub why: InsertConflict,
}

/// One batch of a scan.
#[derive(Debug, Default)]
pub struct ScanBatch {
    /// The visible rows, in key order.
    pub rows: Vec<Row>,
    /// Their keys, when asked for.
    pub keys: Vec<Key>,
    /// Where to continue (exclusive), if the batch stopped before the range's end.
    pub resume: Option<Key>,
    /// Where the next partition begins (inclusive), if the range goes on past this
    /// partition's end: set by the storage actor, which knows its bounds.
    pub next_partition: Option<Key>,
}

/// One partition's rows.
#[derive(Debug)]
pub struct Partition {
    kind: IndexKind,
    index: Box<dyn PartitionIndex>,
    /// Secondary indexes, in the table definition's order (`secondary.rs`).
    secondary: Vec<SecondaryIndex>,
    retired: bool,
    /// Keys whose chains changed since a vacuum last found them clean: what the next
    /// vacuum visits (see [`Partition::vacuum_chunk`]).
    dirty: FxHashSet<Key>,
}

impl Default for Partition {
    fn default() -> Partition {
        Partition::new(IndexKind::default())
    }
}

fn rewritten() -> Error {
    Error::new(
        ErrorKind::SerializationFailure,
        "could not serialize access due to concurrent DDL on the table",
    )
}

/// True if two versions are the same one (not merely equal rows).
fn same_version(a: &Version, b: &Version) -> bool {
    let rows = match (&a.row, &b.row) {
        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
        (None, None) => true,
        _ => false,
    };
    rows && Arc::ptr_eq(&a.status, &b.status)
}

impl Partition {
    /// An empty partition keeping its rows in an index of kind `index`.
    pub fn new(index: IndexKind) -> Partition {
        Partition {
            kind: index,
            index: index.build(),
            secondary: Vec::new(),
            retired: false,
            dirty: FxHashSet::default(),
        }
    }

    /// A partition of committed rows (sorted by key, strictly ascending): start-up.
    pub fn loaded(rows: Vec<(Key, Row)>) -> Partition {
        Partition::default().with_rows(rows)
    }

    /// This partition holding `rows` (committed, sorted by key, strictly ascending)
    /// instead of what it held, bulk loaded.
    pub fn with_rows(mut self, rows: Vec<(Key, Row)>) -> Partition {
        let frozen = TxnStatus::frozen();
        self.index
            .bulk_load(rows.into_iter().map(|(k, r)| (k, Chain::frozen(r, &frozen))).collect());
        self
    }

    /// This partition holding whole version chains (sorted by key, strictly ascending)
    /// instead of what it held: the ADD PRIMARY KEY rewrite.
    pub fn with_chains(mut self, chains: Vec<(Key, Chain)>) -> Partition {
        for (key, chain) in &chains {
            if !chain.is_clean() {
                self.dirty.insert(key.clone());
            }
        }
        self.index.bulk_load(chains);
        self
    }

    /// Notes that the chain at `key` changed, so the next vacuum visits it.
    fn touch(&mut self, key: &[u8]) {
        if !self.dirty.contains(key) {
            self.dirty.insert(Key::from(key));
        }
    }

    /// The row at `key` visible to `view`.
    pub fn get(&self, view: ReadView, key: &[u8]) -> Option<Row> {
        self.index.get(key).and_then(|c| c.visible(view).cloned())
    }

    /// Up to [`BATCH_KEYS`] keys of the range `(from, to)`, visited in key order; the
    /// rows visible to `view` (and their keys if `with_keys`).
    pub fn scan(
        &self,
        view: ReadView,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        with_keys: bool,
    ) -> ScanBatch {
        let mut batch = ScanBatch::default();
        // An inverted range is empty (a B-tree range over it would panic the actor).
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
            (from, to)
        {
            if a > b || (a == b && !matches!((from, to), (Bound::Included(_), Bound::Included(_))))
            {
                return batch;
            }
        }
        let mut last: Option<&[u8]> = None;
        for (visited, (key, chain)) in self.index.range(from, to).enumerate() {
            if visited == BATCH_KEYS {
                batch.resume = last.map(Key::from);
                break;
            }
            last = Some(key);
            if let Some(row) = chain.visible(view) {
                batch.rows.push(row.clone());
                if with_keys {
                    batch.keys.push(Key::from(key));
                }
            }
        }
        batch
    }

    /// Number of keys (all versions, any visibility): a size hint.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True if the partition holds no keys at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts `rows` for `writer`, in order, stopping at the first that cannot go in.
    /// The caller holds each key's row lock or the key is a fresh row id.
    pub fn insert(
        &mut self,
        writer: &Arc<TxnStatus>,
        rows: Vec<(Key, Row)>,
    ) -> Result<(), Refused> {
        if self.retired {
            return Err(Refused { at: 0, why: InsertConflict::Retired });
        }
        if self.index.is_empty()
            && rows.len() > 1
            && rows.windows(2).all(|w| w[0].0 < w[1].0)
            && !self.has_unique()
        {
            self.bulk_insert(writer, rows);
            return Ok(());
        }
        for (at, (key, row)) in rows.into_iter().enumerate() {
            if let Some(chain) = self.index.get(&key) {
                match chain.latest_index(writer.top()) {
                    Err(holder) => {
                        return Err(Refused { at, why: InsertConflict::Blocked(holder) })
                    }
                    Ok(Some(i)) if chain.versions[i].row.is_some() => {
                        return Err(Refused { at, why: InsertConflict::Duplicate })
                    }
                    Ok(_) => {}
                }
            }
            match self.unique_conflict(writer.top(), &key, &row) {
                Some(PutOutcome::Blocked(holder)) => {
                    return Err(Refused { at, why: InsertConflict::Blocked(holder) })
                }
                Some(PutOutcome::Unique(ix)) => {
                    return Err(Refused { at, why: InsertConflict::Unique(ix) })
                }
                _ => {}
            }
            self.add_entries(&key, &row);
            let chain = self.index.entry(&key);
            chain.versions.retain(|v| v.status.state() != State::Aborted);
            chain.versions.push(Version {
                status: writer.clone(),
                row: Some(row),
                mode: RowLockMode::Update,
                moved: false,
            });
            self.touch(&key);
        }
        Ok(())
    }

    /// Inserts strictly ascending `rows` into an empty partition by bulk loading them
    /// (COPY into an empty table; `insert` checks the conditions): nothing to conflict
    /// with, so every row goes in as `writer`'s version.
    fn bulk_insert(&mut self, writer: &Arc<TxnStatus>, rows: Vec<(Key, Row)>) {
        let mut chains = Vec::with_capacity(rows.len());
        for (key, row) in rows {
            self.add_entries(&key, &row);
            self.dirty.insert(key.clone());
            let version = Version {
                status: writer.clone(),
                row: Some(row),
                mode: RowLockMode::Update,
                moved: false,
            };
            chains.push((key, Chain { versions: vec![version], locks: Vec::new() }));
        }
        self.index.bulk_load(chains);
    }

    /// The version transaction `txn` would build on to write the row at `key`, which
    /// must be visible to `view`: the newest committed version or `txn`'s own. If a newer
    /// version was committed since the snapshot, READ COMMITTED builds on it (skipping
    /// the row if it was deleted since) and REPEATABLE READ fails with 40001.
    pub fn latest(
        &self,
        view: ReadView,
        isolation: Isolation,
        txn: TxnId,
        key: &[u8],
    ) -> Result<Latest> {
        self.latest_for(view, isolation, txn, key, RowLockMode::NoKeyUpdate)
    }

    /// [`Partition::latest`] for a holder in strength `mode`: a writer asks with NO KEY
    /// UPDATE (its `put` re-checks with the strength its new row needs), a locking read
    /// with its own. `Blocked` names a holder whose strength conflicts.
    pub fn latest_for(
        &self,
        view: ReadView,
        isolation: Isolation,
        txn: TxnId,
        key: &[u8],
        mode: RowLockMode,
    ) -> Result<Latest> {
        let Some(chain) = self.index.get(key) else { return Ok(Latest::Skipped) };
        let Some(seen) = chain.visible_index(view) else { return Ok(Latest::Skipped) };
        if chain.versions[seen].row.is_none() {
            return Ok(Latest::Skipped);
        }
        let latest = match chain.latest_index_for(txn, mode) {
            Ok(Some(i)) => i,
            Ok(None) => return Ok(Latest::Skipped),
            Err(holder) => return Ok(Latest::Blocked(holder)),
        };
        // The row we saw was deleted after our snapshot (maybe re-inserted under the same
        // key since): the write follows the row, not the key, as PostgreSQL's does.
        let since = if latest > seen { &chain.versions[seen + 1..=latest] } else { &[] };
        let live = |v: &&Version| v.status.state() != State::Aborted;
        // Only committed versions and our own lie between (a lock is no version): a
        // KEY SHARE lock may look past another's uncommitted version, not count it.
        let counts = |v: &&Version| v.status.state() != State::Active || v.status.top() == txn;
        let deleted_since =
            since.iter().filter(live).filter(|v| counts(v)).any(|v| v.row.is_none());
        let moved_since = since.iter().filter(live).filter(|v| counts(v)).any(|v| v.moved);
        let changed_since = since.iter().filter(live).any(|v| counts(&v));
        #[cfg(feature = "mutate-rr-no-changed-since-check")]
        // MUTATION (loom-tests/mutations.sh): REPEATABLE READ builds on a version
        // committed after its snapshot instead of failing with 40001.
        let changed_since = changed_since && isolation != Isolation::RepeatableRead;
        if changed_since && isolation == Isolation::RepeatableRead {
            return Err(if deleted_since && !moved_since {
                Error::new(
                    ErrorKind::SerializationFailure,
                    "could not serialize access due to concurrent delete",
                )
            } else {
                Error::serialization_update()
            });
        }
        // The row lives on under another key: READ COMMITTED cannot follow it there (the
        // statement found its rows by the old key), so it fails rather than silently
        // skipping a row that still matches, as PostgreSQL does for a row moved to
        // another partition.
        if moved_since {
            return Err(Error::new(
                ErrorKind::SerializationFailure,
                "tuple to be locked was already moved to another key due to concurrent update",
            ));
        }
        if deleted_since || chain.versions[latest].row.is_none() {
            return Ok(Latest::Skipped);
        }
        Ok(Latest::Row(chain.versions[latest].clone()))
    }

    /// Puts `new` (`None` deletes) on top of the row at `key` for `writer`, if the
    /// version to build on is still `expect` (from [`Partition::latest`]); else
    /// `Changed`. `horizon` lets the chain drop versions no snapshot needs. Holds the
    /// row as strongly as possible (FOR UPDATE); see [`Partition::put_as`].
    pub fn put(
        &mut self,
        writer: &Arc<TxnStatus>,
        key: &[u8],
        expect: &Version,
        new: Option<Row>,
        horizon: CommitTs,
    ) -> Result<PutOutcome> {
        self.put_as(writer, key, expect, new, horizon, RowLockMode::Update)
    }

    /// [`Partition::put`] holding the row in strength `mode` (NO KEY UPDATE for an
    /// UPDATE that changes no key column, else UPDATE): `Blocked` if another
    /// transaction's lock conflicts with it (a KEY SHARE lock and a key change).
    pub fn put_as(
        &mut self,
        writer: &Arc<TxnStatus>,
        key: &[u8],
        expect: &Version,
        new: Option<Row>,
        horizon: CommitTs,
        mode: RowLockMode,
    ) -> Result<PutOutcome> {
        self.put_version(
            writer,
            key,
            expect,
            Version { status: writer.clone(), row: new, mode, moved: false },
            horizon,
        )
    }

    /// The first half of an UPDATE of the primary key (the session inserts the new
    /// image at its new key next, as an ordinary insert, whichever partition owns it):
    /// if `expect` is still the version to build on at `key`, a deletion marked
    /// `moved` goes on top, holding the row FOR UPDATE.
    /// ```text
    ///   key:     [ v1 (committed) | T: deleted, moved ]      new key: [ T: row ]
    /// ```
    /// A writer that built on v1 and waited for T finds the `moved` deletion once T
    /// commits and fails with 40001 ([`Partition::latest_for`]) instead of skipping a
    /// row that still exists.
    pub fn move_out(
        &mut self,
        writer: &Arc<TxnStatus>,
        key: &[u8],
        expect: &Version,
        horizon: CommitTs,
    ) -> Result<PutOutcome> {
        let deletion =
            Version { status: writer.clone(), row: None, mode: RowLockMode::Update, moved: true };
        self.put_version(writer, key, expect, deletion, horizon)
    }

    /// Puts `version` (written by `writer`) on top of the chain at `key` if `expect` is
    /// still the version to build on: [`Partition::put_as`] and
    /// [`Partition::move_out`].
    fn put_version(
        &mut self,
        writer: &Arc<TxnStatus>,
        key: &[u8],
        expect: &Version,
        version: Version,
        horizon: CommitTs,
    ) -> Result<PutOutcome> {
        let mode = version.mode;
        if self.retired {
            return Err(rewritten());
        }
        let Some(chain) = self.index.get(key) else { return Ok(PutOutcome::Changed) };
        if let Some(holder) = chain.blocker(writer.top(), mode) {
            if chain.latest_index(writer.top()).is_ok() {
                // Only a lock is in the way (a writer on top would have made `latest`
                // answer Blocked): wait for its holder.
                return Ok(PutOutcome::Blocked(holder));
            }
        }
        match chain.latest_index(writer.top()) {
            Ok(Some(i)) if same_version(&chain.versions[i], expect) => {}
            // MUTATION (loom-tests/mutations.sh): put without the compare.
            #[cfg(feature = "mutate-put-without-compare")]
            Ok(_) => {}
            _ => return Ok(PutOutcome::Changed),
        }
        if let Some(row) = &version.row {
            if let Some(conflict) = self.unique_conflict(writer.top(), key, row) {
                return Ok(conflict);
            }
            self.add_entries(key, row);
        }
        let Some(chain) = self.index.get_mut(key) else { return Ok(PutOutcome::Changed) };
        chain.prune(horizon);
        chain.versions.push(version);
        self.touch(key);
        Ok(PutOutcome::Written)
    }

    /// `latest`, the change, and `put`, in one request: what the session's
    /// latest-then-put does in two, for a change the actor can evaluate itself.
    pub fn update(
        &mut self,
        writer: &Arc<TxnStatus>,
        view: ReadView,
        isolation: Isolation,
        key: &[u8],
        change: &dyn RowChange,
        horizon: CommitTs,
    ) -> Result<Updated> {
        let base = match self.latest(view, isolation, view.txn, key)? {
            Latest::Row(base) => base,
            Latest::Skipped => return Ok(Updated::Skipped),
            Latest::Blocked(holder) => return Ok(Updated::Blocked(holder)),
        };
        let Some(old) = base.row.clone() else { return Ok(Updated::Skipped) };
        let Some(new) = change.apply(&old)? else { return Ok(Updated::Skipped) };
        let mode = change.mode(&old, new.as_ref());
        Ok(match self.put_as(writer, key, &base, new.clone(), horizon, mode)? {
            PutOutcome::Written => Updated::Written(old, new),
            PutOutcome::Blocked(holder) => Updated::Blocked(holder),
            PutOutcome::Unique(ix) => Updated::Unique(ix, old, new),
            // Nothing can run between `latest` and `put` inside one request.
            PutOutcome::Changed => {
                return Err(Error::internal("a row changed inside one storage request"))
            }
        })
    }

    /// Locks the row at `key` for `writer` in strength `mode` (SELECT … FOR UPDATE /
    /// SHARE …, a foreign-key check) if the version to build on is still `expect` (from
    /// [`Partition::latest_for`]): the chain gets a [`RowLock`](super::mvcc::RowLock),
    /// no version. `Blocked` if a conflicting holder came in between.
    pub fn lock(
        &mut self,
        writer: &Arc<TxnStatus>,
        key: &[u8],
        expect: &Version,
        mode: RowLockMode,
    ) -> Result<PutOutcome> {
        if self.retired {
            return Err(rewritten());
        }
        let Some(chain) = self.index.get_mut(key) else { return Ok(PutOutcome::Changed) };
        match chain.latest_index_for(writer.top(), mode) {
            Ok(Some(i)) if same_version(&chain.versions[i], expect) => {}
            Err(holder) => return Ok(PutOutcome::Blocked(holder)),
            _ => return Ok(PutOutcome::Changed),
        }
        chain.add_lock(writer, mode);
        self.touch(key);
        Ok(PutOutcome::Written)
    }

    /// Starts a vacuum pass: the keys it must visit, every key whose chain changed
    /// since a pass last found it clean. Only those can hold garbage (a chain is written
    /// only through `insert`, `put` and `lock`, which note the key), so a pass costs
    /// what was written since the last one, not the table's size: pgbench's 1M
    /// accounts, of which a 10-second interval touches some 20k, made the old
    /// every-key sweep a one-second stall of the accounts actor every interval.
    pub fn vacuum_start(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// Garbage-collects up to [`BATCH_KEYS`] keys taken from the end of `todo` (from
    /// [`Partition::vacuum_start`]): drops versions no snapshot at or after `horizon`
    /// can see, and keys whose only remaining version is a deletion committed at or
    /// before it. A key that still holds more than it will keep (a version the horizon
    /// does not pass yet, an uncommitted one, a lock) is noted for the next pass.
    /// Returns the keys removed.
    pub fn vacuum_chunk(&mut self, horizon: CommitTs, todo: &mut Vec<Key>) -> usize {
        let mut removed = 0;
        for key in todo.split_off(todo.len().saturating_sub(BATCH_KEYS)) {
            let (dead, clean) = match self.index.get_mut(&key) {
                Some(chain) => {
                    chain.prune(horizon);
                    (chain.is_dead(horizon), chain.is_clean())
                }
                None => (false, true),
            };
            if dead {
                self.index.remove(&key);
                removed += 1;
            } else if !clean {
                self.dirty.insert(key.clone());
            }
            self.clean_entries(&key);
        }
        removed
    }

    /// Removes `txn`'s versions at `keys` (rollback). Its status is already aborted, so
    /// readers ignore them even before this runs.
    pub fn remove_txn(&mut self, txn: TxnId, keys: &[Key]) {
        for key in keys {
            let empty = match self.index.get_mut(key) {
                Some(chain) => {
                    chain.remove_txn(txn);
                    chain.versions.is_empty()
                }
                None => false,
            };
            if empty {
                self.index.remove(key);
            }
            self.clean_entries(key);
        }
    }

    /// Retires the partition for DDL and returns every live key's committed versions,
    /// in key order. Fails with 55006 (and stays live) if some other transaction has
    /// uncommitted writes in it.
    pub fn retire(&mut self, txn: TxnId) -> Result<Vec<(Key, Chain)>> {
        let mut rows = Vec::with_capacity(self.index.len());
        for (key, chain) in self.index.range(Bound::Unbounded, Bound::Unbounded) {
            match chain.latest_index(txn).and_then(|i| match chain.locked_by_other(txn) {
                Some(holder) => Err(holder),
                None => Ok(i),
            }) {
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::ObjectInUse,
                        "cannot alter or drop the table because other transactions have uncommitted changes in it",
                    ))
                }
                // The committed history goes along (not just the newest image), so that
                // older snapshots still see what they saw and REPEATABLE READ writers
                // still get 40001 in the rewritten table.
                Ok(Some(i)) if chain.versions[i].row.is_some() => {
                    let mut committed = chain.clone();
                    committed.versions.truncate(i + 1);
                    committed.versions.retain(|v| v.status.state() != State::Aborted);
                    committed.locks.clear();
                    rows.push((Key::from(key), committed));
                }
                Ok(_) => {}
            }
        }
        self.retired = true;
        Ok(rows)
    }

    /// Undoes [`Partition::retire`] when the DDL failed.
    pub fn unretire(&mut self) {
        self.retired = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;

    fn row(v: i32) -> Row {
        Row::from(vec![Value::Int4(v)])
    }

    fn key(i: u64) -> Key {
        Key::from(i.to_be_bytes())
    }

    /// A whole write as a session does it: latest, then put.
    fn write(
        part: &mut Partition,
        writer: &Arc<TxnStatus>,
        view: ReadView,
        isolation: Isolation,
        key: &[u8],
        new: Option<Row>,
    ) -> Result<Option<PutOutcome>> {
        match part.latest(view, isolation, writer.id(), key)? {
            Latest::Row(v) => part.put(writer, key, &v, new, CommitTs(0)).map(Some),
            Latest::Skipped => Ok(None),
            Latest::Blocked(t) => panic!("blocked by {t:?}"),
        }
    }

    #[test]
    fn vacuum_drops_keys_deleted_before_the_horizon_and_keeps_the_rest() {
        let mut part = Partition::default();
        let loader = TxnStatus::new(TxnId(1));
        part.insert(&loader, (0..10_000u64).map(|i| (key(i), row(i as i32))).collect())
            .expect("insert");
        loader.commit(CommitTs(1));
        // Delete the even keys at ts 2, update the odd ones at ts 3.
        let writer = TxnStatus::new(TxnId(2));
        let view = ReadView { snapshot: CommitTs(1), txn: TxnId(2) };
        for i in 0..10_000u64 {
            let new = if i % 2 == 0 { None } else { Some(row(-1)) };
            let out = write(&mut part, &writer, view, Isolation::ReadCommitted, &key(i), new);
            assert_eq!(out.expect("write"), Some(PutOutcome::Written));
        }
        writer.commit(CommitTs(2));
        let sweep = |part: &mut Partition, horizon| {
            let mut todo = part.vacuum_start();
            let mut removed = 0;
            while !todo.is_empty() {
                removed += part.vacuum_chunk(horizon, &mut todo);
            }
            removed
        };
        // A snapshot at 1 is still in use: nothing may go.
        assert_eq!(sweep(&mut part, CommitTs(1)), 0);
        let old = ReadView { snapshot: CommitTs(1), txn: TxnId(9) };
        assert_eq!(part.get(old, &key(4)), Some(row(4)));
        // Once every snapshot is at 2 or later, the deleted keys go; the rest stay.
        assert_eq!(sweep(&mut part, CommitTs(2)), 5_000);
        assert_eq!(part.len(), 5_000);
        let now = ReadView { snapshot: CommitTs(2), txn: TxnId(9) };
        assert_eq!(part.get(now, &key(3)), Some(row(-1)));
        assert_eq!(part.get(now, &key(4)), None);
        // Every key left is clean now: the next pass has nothing to visit, however
        // large the table; a key written again is visited again.
        assert!(part.vacuum_start().is_empty());
        let again = TxnStatus::new(TxnId(3));
        let view = ReadView { snapshot: CommitTs(2), txn: TxnId(3) };
        let out = write(&mut part, &again, view, Isolation::ReadCommitted, &key(5), Some(row(5)));
        assert_eq!(out.expect("write"), Some(PutOutcome::Written));
        assert_eq!(part.vacuum_start(), vec![key(5)]);
    }

    #[test]
    fn read_committed_update_follows_the_row_not_a_reinserted_key() {
        let mut part = Partition::default();
        let loader = TxnStatus::new(TxnId(1));
        part.insert(&loader, vec![(key(7), row(10))]).expect("insert");
        loader.commit(CommitTs(1));
        // After our snapshot (1), another transaction deletes the row and re-inserts
        // the key.
        let other = TxnStatus::new(TxnId(2));
        let at1 = ReadView { snapshot: CommitTs(1), txn: TxnId(2) };
        write(&mut part, &other, at1, Isolation::ReadCommitted, &key(7), None).expect("delete");
        part.insert(&other, vec![(key(7), row(20))]).expect("re-insert");
        other.commit(CommitTs(2));
        let me = TxnStatus::new(TxnId(3));
        let mine = ReadView { snapshot: CommitTs(1), txn: TxnId(3) };
        let out = write(&mut part, &me, mine, Isolation::ReadCommitted, &key(7), Some(row(21)));
        assert_eq!(out.expect("update"), None, "PostgreSQL: UPDATE 0, the row we saw is gone");
        let err =
            part.latest(mine, Isolation::RepeatableRead, me.id(), &key(7)).expect_err("40001");
        assert_eq!(err.message, "could not serialize access due to concurrent delete");
    }

    #[test]
    fn a_put_on_a_version_that_is_no_longer_latest_is_changed_and_the_retry_blocks() {
        let mut part = Partition::default();
        let loader = TxnStatus::new(TxnId(1));
        part.insert(&loader, vec![(key(1), row(0))]).expect("insert");
        loader.commit(CommitTs(1));
        let (t1, t2) = (TxnStatus::new(TxnId(2)), TxnStatus::new(TxnId(3)));
        let v1 = ReadView { snapshot: CommitTs(1), txn: t1.id() };
        let v2 = ReadView { snapshot: CommitTs(1), txn: t2.id() };
        let Ok(Latest::Row(base1)) = part.latest(v1, Isolation::ReadCommitted, t1.id(), &key(1))
        else {
            panic!("t1 builds on the loaded row")
        };
        let Ok(Latest::Row(base2)) = part.latest(v2, Isolation::ReadCommitted, t2.id(), &key(1))
        else {
            panic!("t2 builds on the loaded row")
        };
        let put = |p: &mut Partition, t: &Arc<TxnStatus>, base: &Version, v| {
            p.put(t, &key(1), base, Some(row(v)), CommitTs(0)).expect("put")
        };
        assert_eq!(put(&mut part, &t1, &base1, 1), PutOutcome::Written);
        assert_eq!(put(&mut part, &t2, &base2, 2), PutOutcome::Changed);
        assert!(matches!(
            part.latest(v2, Isolation::ReadCommitted, t2.id(), &key(1)),
            Ok(Latest::Blocked(t)) if t == t1.id()
        ));
        // T1 aborts: its version no longer counts, and T2 builds on the loaded row again
        // even before the rollback removed the version.
        t1.abort();
        let Ok(Latest::Row(again)) = part.latest(v2, Isolation::ReadCommitted, t2.id(), &key(1))
        else {
            panic!("t2 builds on the loaded row after t1's abort")
        };
        assert_eq!(put(&mut part, &t2, &again, 2), PutOutcome::Written);
        let after = ReadView { snapshot: CommitTs(1), txn: t2.id() };
        assert_eq!(part.get(after, &key(1)), Some(row(2)));
    }

    #[test]
    fn a_moved_row_is_not_skipped_by_a_writer_that_built_on_it() {
        let mut part = Partition::default();
        let loader = TxnStatus::new(TxnId(1));
        part.insert(&loader, vec![(key(1), row(1)), (key(2), row(2))]).expect("insert");
        loader.commit(CommitTs(1));
        let mover = TxnStatus::new(TxnId(2));
        let at1 = ReadView { snapshot: CommitTs(1), txn: mover.id() };
        let Ok(Latest::Row(base)) = part.latest(at1, Isolation::ReadCommitted, mover.id(), &key(1))
        else {
            panic!("the mover builds on the loaded row")
        };
        // Moved out of key 1, and in at key 9 (the session's insert).
        assert_eq!(
            part.move_out(&mover, &key(1), &base, CommitTs(0)).expect("move"),
            PutOutcome::Written
        );
        part.insert(&mover, vec![(key(9), row(1))]).expect("insert at the new key");
        assert_eq!(part.get(at1, &key(1)), None);
        assert_eq!(part.get(at1, &key(9)), Some(row(1)));
        // A writer whose snapshot saw the row at key 1 waits for the mover, then fails.
        let writer = TxnStatus::new(TxnId(3));
        let mine = ReadView { snapshot: CommitTs(1), txn: writer.id() };
        assert!(matches!(
            part.latest(mine, Isolation::ReadCommitted, writer.id(), &key(1)),
            Ok(Latest::Blocked(t)) if t == mover.id()
        ));
        mover.commit(CommitTs(2));
        let err = part.latest(mine, Isolation::ReadCommitted, writer.id(), &key(1));
        assert_eq!(
            err.expect_err("40001").message,
            "tuple to be locked was already moved to another key due to concurrent update"
        );
        let err = part.latest(mine, Isolation::RepeatableRead, writer.id(), &key(1));
        assert_eq!(
            err.expect_err("40001").message,
            "could not serialize access due to concurrent update"
        );
        // A plain deletion is still skipped.
        let deleter = TxnStatus::new(TxnId(4));
        let at2 = ReadView { snapshot: CommitTs(2), txn: deleter.id() };
        write(&mut part, &deleter, at2, Isolation::ReadCommitted, &key(2), None).expect("delete");
        deleter.commit(CommitTs(3));
        let late = ReadView { snapshot: CommitTs(2), txn: writer.id() };
        let skipped = part.latest(late, Isolation::ReadCommitted, writer.id(), &key(2));
        assert!(matches!(skipped, Ok(Latest::Skipped)));
    }

    #[test]
    fn an_insert_batch_stops_at_a_duplicate_and_keeps_the_rows_before_it() {
        let mut part = Partition::default();
        let t = TxnStatus::new(TxnId(1));
        let rows = vec![(key(1), row(1)), (key(2), row(2)), (key(1), row(3)), (key(4), row(4))];
        assert_eq!(part.insert(&t, rows), Err(Refused { at: 2, why: InsertConflict::Duplicate }));
        let own = ReadView { snapshot: CommitTs(0), txn: t.id() };
        assert_eq!(part.get(own, &key(2)), Some(row(2)));
        assert_eq!(part.get(own, &key(4)), None);
        let other = TxnStatus::new(TxnId(2));
        assert_eq!(
            part.insert(&other, vec![(key(9), row(9)), (key(2), row(0))]),
            Err(Refused { at: 1, why: InsertConflict::Blocked(t.id()) })
        );
    }

    /// A sorted batch into an empty partition (COPY into an empty table) is bulk
    /// loaded, and is then exactly what row-by-row inserts would have made: the
    /// writer's uncommitted versions, invisible to others, gone with a rollback.
    #[test]
    fn a_sorted_batch_into_an_empty_partition_is_bulk_loaded_as_the_writers_versions() {
        for kind in [IndexKind::BTree, IndexKind::Learned] {
            let mut part = Partition::new(kind);
            let t = TxnStatus::new(TxnId(1));
            let keys: Vec<Key> = (0..5000).map(key).collect();
            let rows = keys.iter().map(|k| (k.clone(), row(1))).collect();
            part.insert(&t, rows).expect("bulk loaded");
            let other = ReadView { snapshot: CommitTs(9), txn: TxnId(2) };
            let own = ReadView { snapshot: CommitTs(0), txn: t.id() };
            assert_eq!(part.get(other, &key(7)), None, "uncommitted");
            assert_eq!(part.get(own, &key(4999)), Some(row(1)));
            let again = part.insert(&TxnStatus::new(TxnId(3)), vec![(key(7), row(2))]);
            assert_eq!(again, Err(Refused { at: 0, why: InsertConflict::Blocked(t.id()) }));
            t.abort();
            part.remove_txn(t.id(), &keys);
            assert!(part.is_empty(), "{kind:?}: the rollback removed every key");
        }
    }

    #[test]
    fn a_scan_resumes_after_each_batch_without_repeating_or_missing_a_key() {
        let loaded: Vec<(Key, Row)> =
            (0..(BATCH_KEYS as u64 * 2 + 5)).map(|i| (key(i), row(i as i32))).collect();
        let part = Partition::loaded(loaded);
        let view = ReadView { snapshot: CommitTs(0), txn: TxnId(1) };
        let mut from: Bound<Key> = Bound::Unbounded;
        let mut seen = Vec::new();
        loop {
            let b = part.scan(view, from.as_ref().map(|k| &**k), Bound::Unbounded, true);
            seen.extend(b.keys);
            match b.resume {
                Some(k) => from = Bound::Excluded(k),
                None => break,
            }
        }
        let want: Vec<Key> = (0..(BATCH_KEYS as u64 * 2 + 5)).map(key).collect();
        assert_eq!(seen, want);
    }
}
