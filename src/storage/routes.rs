//! A table's routing table: which storage actor owns which key range.
//!
//! ```text
//!   routes: [ ("", mail₀) , (k₁, mail₁) , (k₂, mail₂) ]      sorted by low key
//!             [""  ── k₁)   [k₁ ── k₂)    [k₂ ── end)
//!   key k → the last route whose low key ≤ k
//! ```
//! Sessions read it (under a short read lock) to address a request; the storage actors
//! write it: a split adds the new partition's route, a coalesce (the table getting a
//! UNIQUE index) leaves only the first. A session that read it just before a change
//! sends to the old owner, which forwards what it no longer owns to its successor (see
//! `actor.rs`), so a stale route costs one hop and is never wrong.

use parking_lot::RwLock;
use tokio::sync::mpsc;

use super::index::Key;
use super::messages::Request;

/// One partition's entry: its low key (inclusive) and its actor's mailbox.
#[derive(Debug)]
struct Route {
    lo: Key,
    mail: mpsc::Sender<Request>,
}

/// The routing table of one table.
#[derive(Debug)]
pub struct Routes {
    parts: RwLock<Vec<Route>>,
}

/// Sends `req` without waiting: a full mailbox is sent to from a task of its own on
/// `runtime` (a closed one drops it). For what must not wait: a rollback's clean-up, an
/// actor's forward.
pub fn send_later(mail: &mpsc::Sender<Request>, req: Request, runtime: &tokio::runtime::Handle) {
    match mail.try_send(req) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        Err(mpsc::error::TrySendError::Full(req)) => {
            let mail = mail.clone();
            runtime.spawn(async move {
                let _ = mail.send(req).await;
            });
        }
    }
}

/// Where [`Routes::send`] could not deliver: the actor stopped.
#[derive(Debug)]
pub struct Gone;

impl Routes {
    /// The routes of partitions given by their low keys (in order, the first one's
    /// the empty key) and mailboxes.
    pub fn new(parts: impl IntoIterator<Item = (Key, mpsc::Sender<Request>)>) -> Routes {
        let parts = parts.into_iter().map(|(lo, mail)| Route { lo, mail }).collect();
        Routes { parts: RwLock::new(parts) }
    }

    /// Number of partitions.
    pub fn len(&self) -> usize {
        self.parts.read().len()
    }

    /// Never empty: a table has at least one partition.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Position of the partition owning `key` (`None`: the first).
    fn position(parts: &[Route], key: Option<&[u8]>) -> usize {
        match key {
            None => 0,
            Some(k) => parts.partition_point(|r| &*r.lo <= k).saturating_sub(1),
        }
    }

    /// Sends `req` to the owner of its key ([`Request::route`]). The fast path is a
    /// `try_send` under the read lock; a full mailbox is waited on outside it.
    pub async fn send(&self, req: Request) -> Result<(), Gone> {
        let (mail, req) = {
            let parts = self.parts.read();
            let mail = &parts[Self::position(&parts, req.route())].mail;
            match mail.try_send(req) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Gone),
                Err(mpsc::error::TrySendError::Full(req)) => (mail.clone(), req),
            }
        };
        mail.send(req).await.map_err(|_| Gone)
    }

    /// The mailbox of the owner of `key` (the first partition for `None`).
    pub fn mail_for(&self, key: Option<&[u8]>) -> mpsc::Sender<Request> {
        let parts = self.parts.read();
        parts[Self::position(&parts, key)].mail.clone()
    }

    /// How many of `rows`, from the first, the first one's partition owns.
    pub fn run_len<T>(&self, rows: &[(Key, T)]) -> usize {
        let parts = self.parts.read();
        if parts.len() == 1 {
            return rows.len();
        }
        let Some((first, _)) = rows.first() else { return 0 };
        let owner = Self::position(&parts, Some(first));
        rows.iter().take_while(|(k, _)| Self::position(&parts, Some(k)) == owner).count()
    }

    /// `keys` grouped by the mailbox of their owner.
    pub fn group(&self, keys: Vec<Key>) -> Vec<(mpsc::Sender<Request>, Vec<Key>)> {
        let parts = self.parts.read();
        if parts.len() == 1 {
            return vec![(parts[0].mail.clone(), keys)];
        }
        let mut groups: Vec<Vec<Key>> = (0..parts.len()).map(|_| Vec::new()).collect();
        for k in keys {
            groups[Self::position(&parts, Some(&k))].push(k);
        }
        groups
            .into_iter()
            .enumerate()
            .filter(|(_, ks)| !ks.is_empty())
            .map(|(i, ks)| (parts[i].mail.clone(), ks))
            .collect()
    }

    /// A split: the partition starting at `lo` is served by `mail` from now on.
    pub fn insert(&self, lo: Key, mail: mpsc::Sender<Request>) {
        let mut parts = self.parts.write();
        let at = parts.partition_point(|r| r.lo < lo);
        parts.insert(at, Route { lo, mail });
    }

    /// A coalesce: the first partition owns every key again.
    pub fn keep_first(&self) {
        self.parts.write().truncate(1);
    }
}
