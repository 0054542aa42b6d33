//! The one path of every write: the writer gate, the transaction, the hold
//! limit, `request_id` recall and remember, the commit, and waking the
//! watchers. What a write does to its rows (and the changes it logs) is its
//! [`Write`], a leaf of the store handed the transaction.
//!
//! Every write is one transaction: its rows, its changes with their
//! revisions, and the remembered answer of its `request_id`. A write that
//! fails leaves nothing.

use super::changelog;
use super::entity::StoredKind;
use super::hold_limit::{self, HoldLimit};
use super::idempotency;
use super::pool::Store;
use super::revisions;
use crate::domain::{Item, RequestKey, Revision, Timestamp, UserId};
use crate::error::{Error, Result};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

/// A write's `request_id`, and since when answers are remembered (the
/// idempotency window).
#[derive(Debug, Clone)]
pub struct Remember {
    pub key: RequestKey,
    pub since: Timestamp,
}

/// Who writes, what to remember the answer under, how many items the
/// answer holds, and the hold limit that the write must keep, if it may add
/// holds.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    pub by: Option<UserId>,
    pub remember: Option<Remember>,
    pub answers: u32,
    pub limit: Option<HoldLimit>,
}

impl Writer {
    /// A write of one item.
    pub fn of_one(by: Option<UserId>, remember: Option<Remember>) -> Self {
        Self {
            by,
            remember,
            answers: 1,
            limit: None,
        }
    }
}

/// What a write did: its answer, the revision that answers it (its first
/// change, or for a write that changed nothing the item's last change), and
/// its last change, if it made one.
pub(super) struct Written<T> {
    pub answer: T,
    pub revision: Revision,
    pub last: Option<Revision>,
}

/// How a write's work ended, short of failing.
pub(super) enum Applied<T> {
    /// Commit, remember the answer, wake the watchers.
    Commit(Written<T>),
    /// Roll back and answer this: the write decided to write nothing.
    RollBack(T),
}

/// What one kind of write does inside the runner's transaction.
pub(super) trait Write<K: StoredKind>: Send + 'static {
    type Answer: Send + 'static;

    /// Writes the rows and logs their changes.
    fn apply(
        self,
        txn: &DatabaseTransaction,
    ) -> impl Future<Output = Result<Applied<Self::Answer>>> + Send;

    /// The answer of an earlier write under the same `request_id`, made of
    /// the items its changes left.
    fn recalled(items: Vec<Item<K>>) -> Self::Answer;
}

/// Runs `work` as one write, to its end. A write retried under a
/// remembered `request_id` gets the answer of the change that answered it
/// and writes nothing; one that may add holds checks `writer.limit` first,
/// in the same transaction.
pub(super) async fn run<K, W>(store: &Store, writer: Writer, work: W) -> Result<W::Answer>
where
    K: StoredKind,
    W: Write<K>,
{
    store
        .detached(move |store| async move {
            let _gate = store.writer().await;
            let txn = store.begin_write().await?;
            revisions::enter(&txn).await?;
            if let Some(limit) = &writer.limit {
                hold_limit::lock(&txn, limit).await?;
            }
            let remembered = writer.by.zip(writer.remember.clone());
            if let Some((user, Remember { key, since })) = &remembered
                && let Some(earlier) = idempotency::recall(&txn, *user, key, *since).await?
            {
                let answer = recalled::<K, W>(&txn, key, earlier, writer.answers).await;
                txn.rollback().await?;
                return answer;
            }
            let applied = async {
                if let Some(limit) = &writer.limit {
                    hold_limit::check::<K>(&txn, limit, Timestamp::now()).await?;
                }
                work.apply(&txn).await
            };
            // A write that lost a race with a retry of itself: the retry's
            // answer is the answer.
            let lost = async |store: &Store, error: Error| match &remembered {
                Some((user, Remember { key, since })) => {
                    let db = store.connection()?;
                    match idempotency::recall(db, *user, key, *since).await? {
                        Some(earlier) => recalled::<K, W>(db, key, earlier, writer.answers).await,
                        None => Err(error),
                    }
                }
                None => Err(error),
            };
            let written = match applied.await {
                Ok(Applied::Commit(written)) => written,
                Ok(Applied::RollBack(answer)) => {
                    txn.rollback().await?;
                    return Ok(answer);
                }
                Err(error) => {
                    txn.rollback().await?;
                    return lost(&store, error).await;
                }
            };
            if let Some((user, Remember { key, .. })) = &remembered
                && let Err(error) = idempotency::remember(&txn, *user, key, written.revision).await
            {
                txn.rollback().await?;
                return lost(&store, error.into()).await;
            }
            txn.commit().await?;
            if written.last.is_some() {
                store.feed().nudge();
            }
            Ok(written.answer)
        })
        .await
}

/// The remembered answer of `answers` items, if the request is the same.
async fn recalled<K: StoredKind, W: Write<K>>(
    db: &impl ConnectionTrait,
    key: &RequestKey,
    earlier: idempotency::Remembered,
    answers: u32,
) -> Result<W::Answer> {
    if earlier.fingerprint != key.fingerprint {
        return Err(Error::RequestIdReused);
    }
    let items = changelog::answered::<K>(db, earlier.revision, answers).await?;
    Ok(W::recalled(items))
}

/// Runs `write` again, after a short and growing pause, while it loses a
/// deadlock (ABORTED), a few times at most: writes of many rows at once
/// (allocations, import batches) can deadlock on MariaDB's unique indexes
/// and count triggers, and their loser must not fail for it.
pub(super) async fn retrying_deadlocks<T, F>(what: &str, mut write: impl FnMut() -> F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    const ATTEMPTS: u32 = 8;
    let mut attempt = 1;
    loop {
        match write().await {
            Err(Error::Aborted(cause)) if attempt < ATTEMPTS => {
                tracing::debug!(error = %cause, attempt, what, "deadlocked: retrying");
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 20);
                let pause = 10 * u64::from(attempt) + jitter;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}
