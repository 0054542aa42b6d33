//! Reads and writes of one resource kind. The database guards the invariants
//! (unique indexes for identifiers, row locks for read-modify-write); the
//! service decides what each write does to the item it finds.
//!
//! Every write is one transaction: the item, its change in the log with the
//! next revision, and the remembered answer of its `request_id`. A write
//! that fails leaves nothing.
//!
//! Reads by id ask for every matching row (there is at most one) rather than
//! `.one()`: its bound `LIMIT` makes SQLite re-prepare the statement on every
//! call (the planner reads the limit's value), which cost a sixth of a
//! `GetDid`'s time there.
//!
//! Every call runs to its end even if the caller stops waiting (a client
//! cancelling its RPC drops the handler): a database call dropped halfway
//! leaves its pooled connection mid-reply, and sqlx then waits forever to
//! test it before reuse.

use super::Store;
use super::columns::{change_row, row};
use super::entity::{Field, StoredKind};
use super::history::change_at;
use super::idempotency::{self, Remembered};
use super::revisions;
use super::selection::selection;
use crate::domain::{
    Change, ChangeType, Effect, Filter, Identifier, Item, ItemId, Placement, RequestKey, Revision,
    Timestamp, UserId, Visibility,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QuerySelect, SqlErr,
};
use std::marker::PhantomData;
use tracing::Instrument;

pub struct Repository<K> {
    store: Store,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Repository<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            kind: PhantomData,
        }
    }
}

/// A write's `request_id`, and since when answers are remembered (the
/// idempotency window).
#[derive(Debug, Clone)]
pub struct Remember {
    pub key: RequestKey,
    pub since: Timestamp,
}

/// What a write is about: a new item, or a live one and what to do to it.
enum Target<K: StoredKind, F> {
    New(Item<K>),
    Existing(ItemId, F),
}

/// What a write did: the item, and the revision that answers it (its own
/// change, or for a write that changed nothing the item's last change).
struct Written<K: StoredKind> {
    item: Item<K>,
    revision: Revision,
    changed: bool,
}

impl<K: StoredKind> Repository<K> {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            kind: PhantomData,
        }
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// The last revision known committed, moving as changes commit.
    pub fn feed(&self) -> &crate::store::Feed {
        self.store.feed()
    }

    /// Runs `work` on a clone of this repository, to its end.
    pub(super) async fn detached<T, F>(&self, work: impl FnOnce(Self) -> F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        tokio::spawn(work(self.clone()).in_current_span())
            .await
            .map_err(|e| Error::internal(format!("the database call did not finish: {e}")))?
    }

    /// Creates `item`, with its change.
    pub async fn create(
        &self,
        item: Item<K>,
        by: UserId,
        remember: Option<Remember>,
    ) -> Result<Item<K>> {
        type Never<K> = fn(Item<K>, Timestamp) -> Result<Effect<K>>;
        self.write(by, remember, Target::<K, Never<K>>::New(item))
            .await
    }

    /// Changes the live item `id` as `decide` says, given the item as it is
    /// (locked until the write commits) and the write's instant.
    pub async fn change<F>(
        &self,
        id: ItemId,
        by: UserId,
        remember: Option<Remember>,
        decide: F,
    ) -> Result<Item<K>>
    where
        F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    {
        self.write(by, remember, Target::Existing(id, decide)).await
    }

    /// One write, in one transaction with its change and its remembered
    /// answer: a write retried under a remembered `request_id` gets the
    /// change that answered it, and writes nothing.
    async fn write<F>(
        &self,
        by: UserId,
        remember: Option<Remember>,
        target: Target<K, F>,
    ) -> Result<Item<K>>
    where
        F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    {
        self.detached(move |repository| async move {
            let store = &repository.store;
            let _writer = store.writer().await;
            let txn = store.begin_write().await?;
            if let Some(Remember { key, since }) = &remember
                && let Some(earlier) = idempotency::recall(&txn, by, key, *since).await?
            {
                let answer = answer::<K>(&txn, key, earlier).await;
                txn.rollback().await?;
                return answer;
            }
            let written = match apply(&txn, by, target).await {
                Ok(written) => written,
                Err(error) => {
                    txn.rollback().await?;
                    return repository.after_failure(by, remember, error).await;
                }
            };
            if let Some(Remember { key, .. }) = &remember
                && let Err(error) = idempotency::remember(&txn, by, key, written.revision).await
            {
                txn.rollback().await?;
                return repository.after_failure(by, remember, error.into()).await;
            }
            txn.commit().await?;
            if written.changed {
                store.feed().advance(written.revision);
            }
            Ok(written.item)
        })
        .await
    }

    /// A write under a `request_id` that failed may have lost a race with a
    /// retry of itself: then the retry's answer is the answer.
    async fn after_failure(
        &self,
        by: UserId,
        remember: Option<Remember>,
        error: Error,
    ) -> Result<Item<K>> {
        let Some(Remember { key, since }) = remember else {
            return Err(error);
        };
        let db = self.store.connection()?;
        match idempotency::recall(db, by, &key, since).await? {
            Some(earlier) => answer::<K>(db, &key, earlier).await,
            None => Err(error),
        }
    }

    /// The item with this id, if `visibility` shows it and `filter` keeps it.
    pub async fn find(
        &self,
        visibility: Visibility,
        id: ItemId,
        filter: Filter<K>,
    ) -> Result<Option<Item<K>>> {
        self.detached(|repository| async move {
            let found = K::Entity::find()
                .filter(K::column(Field::Id).eq(id))
                .filter(selection(repository.store.backend(), visibility, &filter))
                .into_model::<Item<K>>()
                .all(repository.store.connection()?)
                .await?;
            Ok(found.into_iter().next())
        })
        .await
    }
}

/// Writes the item and its change, with the next revision.
async fn apply<K: StoredKind, F>(
    txn: &DatabaseTransaction,
    by: UserId,
    target: Target<K, F>,
) -> Result<Written<K>>
where
    F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>>,
{
    let (item, change_type, before) = match target {
        Target::New(item) => {
            insert(txn, &item).await.map_err(|e| taken_or(e, &item))?;
            (item, ChangeType::Created, None)
        }
        Target::Existing(id, decide) => {
            let current = live_for_update::<K>(txn, id)
                .await?
                .ok_or(Error::NotFound(K::RESOURCE))?;
            let before = Placement::of(&current);
            let at = Timestamp::now_after(current.updated_at);
            match decide(current, at)? {
                Effect::Unchanged(item) => {
                    let revision = latest_revision::<K>(txn, id).await?;
                    return Ok(Written {
                        item,
                        revision,
                        changed: false,
                    });
                }
                Effect::Changed(item, change_type) => {
                    overwrite(txn, &item)
                        .await
                        .map_err(|e| taken_or(e, &item))?;
                    (item, change_type, before)
                }
            }
        }
    };
    let change = Change {
        revision: revisions::next(txn).await?,
        change_type,
        at: item.updated_at,
        by: Some(by),
        item,
        before,
    };
    let (columns, values): (Vec<_>, Vec<_>) = change_row(&change)
        .into_iter()
        .map(|(name, value)| (Alias::new(name), Expr::value(value)))
        .unzip();
    let insert = Query::insert()
        .into_table(Alias::new(K::CHANGES))
        .columns(columns)
        .values_panic(values)
        .to_owned();
    txn.execute(&insert).await?;
    Ok(Written {
        revision: change.revision,
        item: change.item,
        changed: true,
    })
}

async fn insert<K: StoredKind>(txn: &DatabaseTransaction, item: &Item<K>) -> Result<(), DbErr> {
    let (columns, values): (Vec<_>, Vec<_>) = row(item)
        .into_iter()
        .map(|(field, value)| (K::column(field), Expr::value(value)))
        .unzip();
    let insert = Query::insert()
        .into_table(K::Entity::default())
        .columns(columns)
        .values_panic(values)
        .to_owned();
    txn.execute(&insert).await.map(drop)
}

/// Writes every column of a stored item.
async fn overwrite<K: StoredKind>(txn: &DatabaseTransaction, item: &Item<K>) -> Result<(), DbErr> {
    let mut update = K::Entity::update_many();
    for (field, value) in row(item) {
        update = update.col_expr(K::column(field), Expr::value(value));
    }
    update
        .filter(K::column(Field::Id).eq(item.id))
        .exec(txn)
        .await
        .map(drop)
}

/// The revision of the last change of item `id`.
async fn latest_revision<K: StoredKind>(
    txn: &DatabaseTransaction,
    id: ItemId,
) -> Result<Revision, DbErr> {
    let latest = Query::select()
        .expr_as(Expr::cust("MAX(revision)"), Alias::new("revision"))
        .from(Alias::new(K::CHANGES))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = txn.query_one(&latest).await?;
    Ok(row
        .map(|row| row.try_get::<Option<Revision>>("", "revision"))
        .transpose()?
        .flatten()
        .unwrap_or(Revision::ZERO))
}

/// The answer remembered for `key`: the item as its change left it, if the
/// request is the same.
async fn answer<K: StoredKind>(
    db: &impl ConnectionTrait,
    key: &RequestKey,
    earlier: Remembered,
) -> Result<Item<K>> {
    if earlier.fingerprint != key.fingerprint {
        return Err(Error::RequestIdReused);
    }
    let change = change_at::<K>(db, earlier.revision).await?;
    change.map(|change| change.item).ok_or_else(|| {
        Error::internal(format!(
            "the remembered revision {} is not in the log",
            earlier.revision.get()
        ))
    })
}

/// A unique violation means the identifier is taken.
fn taken_or<K: StoredKind>(error: DbErr, item: &Item<K>) -> Error {
    if is_taken(&error) {
        Error::Taken {
            resource: K::RESOURCE,
            value: item.value.as_str().to_owned(),
            country: item.country,
        }
    } else {
        error.into()
    }
}

/// The live item `id`, locked until the transaction ends: FOR UPDATE on
/// PostgreSQL and MariaDB; SQLite's write transaction already excludes other
/// writers.
async fn live_for_update<K: StoredKind>(
    txn: &impl ConnectionTrait,
    id: ItemId,
) -> Result<Option<Item<K>>, DbErr> {
    K::Entity::find()
        .filter(K::column(Field::Id).eq(id))
        .filter(K::column(Field::DeletedAt).is_null())
        .lock_exclusive()
        .into_model::<Item<K>>()
        .all(txn)
        .await
        .map(|mut found| found.pop())
}

/// A unique violation on write means the identifier is in use: the only
/// unique index besides the (UUIDv7) primary key.
fn is_taken(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
