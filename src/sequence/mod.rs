//! Sequences: CREATE SEQUENCE's live counters, nextval / currval / setval / lastval,
//! and how they stay unique across crashes.
//!
//! # Where the state lives
//! ```text
//!   Engine.sequences: Sequences ── name → Arc<Sequence>   (read-mostly map, DDL writes)
//!     Sequence { def, state: sync::Mutex<SeqState>, log: Mutex<()> }
//!   Session ── SessionSequences { currval by oid, lastval }  (per connection)
//! ```
//! A counter is shared by every session and read outside any one owner, so it sits
//! behind the crate's `sync` facade mutex (held for a few instructions, never across a
//! wait) rather than in an actor: a message hop per nextval would cost more than the
//! counter. The decisions are in [`core`] (sans-IO); this file is the shell that takes
//! the locks and writes records.
//!
//! # Durability: log ahead, as PostgreSQL does
//! A nextval that its sequence's last durable record does not cover writes a record
//! 32 values ahead first ([`core::LOG_AHEAD`]), through the same path as a commit
//! (`Engine::commit` → TxnManager → WalWriter group commit → fsync), and only then
//! hands the value out. The other 31 cost no fsync. One logger at a time per sequence
//! (the `log` mutex), so records reach fjall in increasing order:
//!
//! ```text
//!   [session A] state: next → Log(64)   log lock ─ commit (64) ─ fsync ─ logged(64) ─ 33
//!   [session B] state: next → Log(64)   waits for the log lock ─ state: next → 34 (covered)
//!   [session C] state: next → 35 … 64   (no lock but the state mutex, no fsync)
//! ```
//! nextval is not transactional (a rolled-back transaction does not give its values
//! back) and its record commits on its own, so after a crash no value repeats, also
//! values a transaction that never committed used.
//!
//! Expressions are evaluated synchronously, so the record's wait is a blocking wait:
//! on the server's multi-thread runtime it runs under `tokio::task::block_in_place`,
//! which moves the worker's other tasks elsewhere first (the one place troupe blocks a
//! worker on purpose; it happens once per 32 values).
//!
//! DROP SEQUENCE takes the log lock and marks the sequence dropped before its catalog
//! delete, so a logger never writes a record after the delete (which would bring the
//! sequence back at the next start).
//!
//! # Shortcuts
//! CACHE n is accepted and stored, but values come one at a time from the shared
//! counter (PostgreSQL hands each session a block of n). `SELECT * FROM s` is not
//! served yet.

pub mod core;

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;

use crate::catalog::{namespace, SearchPath};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};
use crate::wal::WalWrite;

pub use self::core::{Counter, SeqState, SequenceDef, Step};

/// The catalog key of a sequence record.
pub fn sequence_key(schema: &str, name: &str) -> Vec<u8> {
    crate::catalog::relation_key("sequence", schema, name)
}

/// The catalog-key prefix of sequence records.
pub const SEQUENCE_KEY_PREFIX: &[u8] = b"sequence/";

/// One live sequence.
#[derive(Debug)]
pub struct Sequence {
    /// Its definition (immutable; ALTER SEQUENCE is not supported).
    pub def: SequenceDef,
    state: Mutex<SeqState>,
    /// Held by the one session writing this sequence's record (see the module doc).
    log: parking_lot::Mutex<()>,
    dropped: AtomicBool,
}

impl Sequence {
    fn new(def: SequenceDef, counter: Counter) -> Sequence {
        let state = SeqState::recovered(&def, counter);
        Sequence {
            def,
            state: Mutex::new(state),
            log: parking_lot::Mutex::new(()),
            dropped: AtomicBool::new(false),
        }
    }

    fn state(&self) -> impl std::ops::DerefMut<Target = SeqState> + '_ {
        // A panic while holding it cannot leave the counter half-written (it is
        // plain data, assigned whole), so a poisoned lock is still good.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counter as handed out so far (`SELECT last_value, is_called`).
    pub fn counter(&self) -> Counter {
        self.state().counter
    }
}

/// Every live sequence, by (schema, name).
#[derive(Debug, Default)]
pub struct Sequences {
    map: RwLock<BTreeMap<(String, String), Arc<Sequence>>>,
}

/// A session's view of sequences: currval per sequence and the last one used.
#[derive(Debug, Default)]
pub struct SessionSequences {
    currval: HashMap<u32, i64>,
    last: Option<(u32, String, String)>,
}

/// What expression evaluation needs to call the sequence functions.
#[derive(Debug, Clone)]
pub struct SequenceAccess {
    /// The engine (its sequences, and the commit path for records).
    pub engine: Arc<Engine>,
    /// The calling session's currval / lastval.
    pub session: Arc<parking_lot::Mutex<SessionSequences>>,
    /// The calling session's search path (for `nextval('s')`).
    pub path: SearchPath,
}

impl Sequences {
    /// The sequences recovered from the catalog keyspace.
    pub fn recovered(records: Vec<(SequenceDef, Counter)>) -> Sequences {
        let map = records
            .into_iter()
            .map(|(def, c)| {
                ((def.schema.clone(), def.name.clone()), Arc::new(Sequence::new(def, c)))
            })
            .collect();
        Sequences { map: RwLock::new(map) }
    }

    /// The sequence `schema.name`, if any.
    pub fn get(&self, schema: &str, name: &str) -> Option<Arc<Sequence>> {
        self.map.read().get(&(schema.to_owned(), name.to_owned())).cloned()
    }

    /// Every sequence.
    pub fn all(&self) -> Vec<Arc<Sequence>> {
        self.map.read().values().cloned().collect()
    }

    /// Sequences owned by (created for a column of) `schema.table` (an owned
    /// sequence is in its table's schema).
    pub fn owned_by(&self, schema: &str, table: &str) -> Vec<Arc<Sequence>> {
        self.map
            .read()
            .values()
            .filter(|s| s.def.schema == schema)
            .filter(|s| s.def.owned_by.as_ref().is_some_and(|(t, _)| t == table))
            .cloned()
            .collect()
    }

    /// Installs a sequence whose creating record is durable.
    pub fn install(&self, def: SequenceDef) {
        let c = def.fresh();
        let key = (def.schema.clone(), def.name.clone());
        self.map.write().insert(key, Arc::new(Sequence::new(def, c)));
    }

    /// The writes that create `def` (for a DDL commit).
    pub fn create_writes(def: &SequenceDef) -> WalWrite {
        WalWrite::CatalogPut {
            key: sequence_key(&def.schema, &def.name),
            value: def.encode(def.fresh()),
        }
    }

    /// Stops every logger of `seq` for good and returns its catalog delete; call
    /// [`Sequences::remove`] once the delete is durable.
    pub fn retire(seq: &Sequence) -> WalWrite {
        blocking(|| {
            let _log = seq.log.lock();
            seq.dropped.store(true, Ordering::Release);
        });
        WalWrite::CatalogDelete { key: sequence_key(&seq.def.schema, &seq.def.name) }
    }

    /// Takes `seq` back into service after its drop failed to commit.
    pub fn unretire(seq: &Sequence) {
        seq.dropped.store(false, Ordering::Release);
    }

    /// Removes a dropped sequence.
    pub fn remove(&self, schema: &str, name: &str) {
        self.map.write().remove(&(schema.to_owned(), name.to_owned()));
    }
}

impl SequenceAccess {
    /// The sequence a `regclass` text names: `s.x` in s, `x` through the search
    /// path (the first schema holding a relation of any kind by that name).
    fn resolve(&self, text: &str) -> Result<Arc<Sequence>> {
        let parts = namespace::text_name_parts(text)?;
        let (schema, name) = namespace::split_qualified(&parts, None)?;
        let catalog = &self.engine.catalog;
        let schema = match schema {
            Some(s) if catalog.schema_oid(s).is_none() => return Err(namespace::no_schema(s)),
            Some(s) => Some(s),
            None => self
                .path
                .schemas()
                .find(|s| self.engine.sequences.get(s, name).is_some() || catalog.holds(s, name)),
        };
        match schema {
            Some(s) => match self.engine.sequences.get(s, name) {
                Some(seq) => Ok(seq),
                None if catalog.holds(s, name) => Err(Error::new(
                    ErrorKind::WrongObjectType,
                    format!("\"{name}\" is not a sequence"),
                )),
                None => Err(undefined(text)),
            },
            None => Err(undefined(text)),
        }
    }

    /// The sequence with pg_class oid `oid` as a name [`SequenceAccess::resolve`]
    /// finds whatever the path (`"schema"."name"`); PostgreSQL's errors for an oid
    /// of another relation (42809) or of none (XX000).
    pub fn name_of(&self, oid: u32) -> Result<String> {
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        if let Some(s) = self.engine.sequences.all().iter().find(|s| s.def.oid == oid) {
            return Ok(format!("{}.{}", quoted(&s.def.schema), quoted(&s.def.name)));
        }
        let catalog = &self.engine.catalog;
        let other = catalog.all().iter().find(|t| t.oid == oid).map(|t| t.name.clone());
        match other
            .or_else(|| catalog.views().iter().find(|v| v.oid == oid).map(|v| v.name.clone()))
        {
            Some(name) => {
                Err(Error::new(ErrorKind::WrongObjectType, format!("\"{name}\" is not a sequence")))
            }
            None => Err(Error::internal(format!("could not open relation with OID {oid}"))),
        }
    }

    /// `nextval(name)`.
    pub fn nextval(&self, name: &str) -> Result<i64> {
        let seq = self.resolve(name)?;
        let fast = seq.state().next(&seq.def)?;
        let value = match fast {
            Step::Value(v) => v,
            Step::Log(_) => blocking(|| -> Result<i64> {
                let _log = seq.log.lock();
                loop {
                    let step = seq.state().next(&seq.def)?;
                    match step {
                        Step::Value(v) => return Ok(v),
                        Step::Log(c) => {
                            self.persist(&seq, c)?;
                            seq.state().logged(c);
                        }
                    }
                }
            })?,
        };
        let mut s = self.session.lock();
        s.currval.insert(seq.def.oid, value);
        s.last = Some((seq.def.oid, seq.def.schema.clone(), seq.def.name.clone()));
        Ok(value)
    }

    /// `currval(name)`: this session's last nextval of it (55000 before any).
    pub fn currval(&self, name: &str) -> Result<i64> {
        let seq = self.resolve(name)?;
        self.session.lock().currval.get(&seq.def.oid).copied().ok_or_else(|| {
            Error::new(
                ErrorKind::ObjectNotInPrerequisiteState,
                format!(
                    "currval of sequence \"{}\" is not yet defined in this session",
                    seq.def.name
                ),
            )
        })
    }

    /// `lastval()`: this session's most recent nextval of any sequence.
    pub fn lastval(&self) -> Result<i64> {
        let undefined = || {
            Error::new(
                ErrorKind::ObjectNotInPrerequisiteState,
                "lastval is not yet defined in this session",
            )
        };
        let s = self.session.lock();
        let (oid, schema, name) = s.last.clone().ok_or_else(undefined)?;
        if self.engine.sequences.get(&schema, &name).is_none_or(|q| q.def.oid != oid) {
            return Err(undefined());
        }
        s.currval.get(&oid).copied().ok_or_else(undefined)
    }

    /// `setval(name, value [, is_called])`: durable before it returns.
    pub fn setval(&self, name: &str, value: i64, is_called: bool) -> Result<i64> {
        let seq = self.resolve(name)?;
        seq.def.check_setval(value)?;
        let c = Counter { last: value, is_called };
        blocking(|| -> Result<()> {
            let _log = seq.log.lock();
            self.persist(&seq, c)?;
            seq.state().set(c);
            Ok(())
        })?;
        if is_called {
            // PostgreSQL: setval with is_called sets currval (but not lastval).
            self.session.lock().currval.insert(seq.def.oid, value);
        }
        Ok(value)
    }

    /// Writes `seq`'s record with counter `c` and waits until it is durable. Called
    /// with the sequence's log lock held.
    fn persist(&self, seq: &Sequence, c: Counter) -> Result<()> {
        if seq.dropped.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::UndefinedTable,
                format!("relation \"{}\" does not exist", seq.def.name),
            ));
        }
        let engine = &self.engine;
        let writes = vec![WalWrite::CatalogPut {
            key: sequence_key(&seq.def.schema, &seq.def.name),
            value: seq.def.encode(c),
        }];
        futures::executor::block_on(engine.commit(&engine.begin(), writes)).map(|_| ())
    }
}

/// Runs `f`, which blocks, so that it does not stall an async worker's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// 42P01 for a name that names no relation.
fn undefined(text: &str) -> Error {
    Error::new(ErrorKind::UndefinedTable, format!("relation \"{}\" does not exist", text.trim()))
}
