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
use super::bulk;
use super::columns::{change_row, row};
use super::entity::{Field, StoredKind};
use super::history::{allocated_from, change_at};
use super::hold_limit::{self, HoldLimit};
use super::idempotency::{self, Remembered};
use super::revisions;
use super::selection::selection;
use crate::domain::{
    Change, ChangeType, CountryCode, Effect, Filter, HoldTtl, Identifier, Item, ItemId,
    NumberPrefix, OrganizationId, Placement, RequestKey, Revision, Timestamp, UserId, Visibility,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};
use sea_orm::{EntityName, IdenStatic};
use std::collections::HashSet;
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

/// What a write is about: a new item, an existing one and what to do to
/// it, or the items an allocation takes.
enum Target<K: StoredKind, F> {
    New(Item<K>),
    Existing(ItemId, F),
    Allocation(Allocation),
}

/// `count` active shared items that nobody holds now and that do not rest,
/// lowest identifiers first, in `country` and starting with `prefix` if
/// given; assigned to the organization, or held for it for `hold`.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub organization_id: OrganizationId,
    pub count: u32,
    pub country: Option<CountryCode>,
    pub prefix: Option<NumberPrefix>,
    pub hold: Option<HoldTtl>,
}

/// What a write did: the items, the revision that answers it (its first
/// change, or for a write that changed nothing the item's last change), and
/// its last change, if it made one.
struct Written<K: StoredKind> {
    items: Vec<Item<K>>,
    revision: Revision,
    last: Option<Revision>,
}

/// The decision type of writes that decide nothing themselves.
type Never<K> = fn(Item<K>, Timestamp) -> Result<Effect<K>>;

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
        let result = tokio::spawn(work(self.clone()).in_current_span())
            .await
            .map_err(|e| Error::internal(format!("the database call did not finish: {e}")))?;
        if let Err(Error::Unavailable(cause)) = &result {
            self.store.report_failure(cause);
        }
        result
    }

    /// Creates `item`, with its change.
    pub async fn create(
        &self,
        item: Item<K>,
        by: UserId,
        remember: Option<Remember>,
    ) -> Result<Item<K>> {
        self.write(Some(by), remember, None, Target::<K, Never<K>>::New(item))
            .await
            .map(one)
    }

    /// Takes the items `allocation` asks for, all or none. A deadlock is
    /// retried: an allocation moves many items, whose kept counts' row
    /// triggers (MariaDB) lock count cells in row order, so two overlapping
    /// allocations can deadlock there, and the loser must not fail for it.
    pub async fn allocate(
        &self,
        allocation: Allocation,
        by: UserId,
        remember: Option<Remember>,
        limit: Option<HoldLimit>,
    ) -> Result<Vec<Item<K>>> {
        retrying_deadlocks("allocation", || {
            let target = Target::<K, Never<K>>::Allocation(allocation.clone());
            self.write(Some(by), remember.clone(), limit, target)
        })
        .await
    }

    /// Changes the item `id` (deleted or not) as `decide` says, given the
    /// item as it is (locked until the write commits) and the write's
    /// instant; within `limit`, if the write may add a hold.
    pub async fn change<F>(
        &self,
        id: ItemId,
        by: UserId,
        remember: Option<Remember>,
        limit: Option<HoldLimit>,
        decide: F,
    ) -> Result<Item<K>>
    where
        F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    {
        self.write(Some(by), remember, limit, Target::Existing(id, decide))
            .await
            .map(one)
    }

    /// Records the expiry of the holds that have ended, oldest first, up to
    /// `limit` of them: each in its own write, so that another process
    /// sweeping at the same time finds the hold already cleared. Returns
    /// how many it found.
    pub async fn expire_holds(&self, limit: u64) -> Result<usize> {
        let now = Timestamp::now();
        let ended: Vec<ItemId> = self
            .detached(move |repository| async move {
                Ok(K::Entity::find()
                    .select_only()
                    .column(K::column(Field::Id))
                    .filter(K::column(Field::HoldExpireTime).lte(now))
                    .order_by_asc(K::column(Field::HoldExpireTime))
                    .limit(limit)
                    .into_tuple()
                    .all(repository.store.connection()?)
                    .await?)
            })
            .await?;
        for &id in &ended {
            let unchanged = |item, _: Timestamp| Ok(Effect::Unchanged(item));
            match self
                .write(None, None, None, Target::Existing(id, unchanged))
                .await
            {
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(ended.len())
    }

    /// One write, in one transaction with its change and its remembered
    /// answer: a write retried under a remembered `request_id` gets the
    /// change that answered it, and writes nothing. A write that may add
    /// holds checks `limit` first, in the same transaction.
    async fn write<F>(
        &self,
        by: Option<UserId>,
        remember: Option<Remember>,
        limit: Option<HoldLimit>,
        target: Target<K, F>,
    ) -> Result<Vec<Item<K>>>
    where
        F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    {
        let shape = match &target {
            Target::Allocation(allocation) => Shape::Allocated(allocation.count),
            _ => Shape::One,
        };
        self.detached(move |repository| async move {
            let store = &repository.store;
            let _writer = store.writer().await;
            let txn = store.begin_write().await?;
            if let Some(limit) = &limit {
                hold_limit::lock(&txn, limit).await?;
            }
            if let Some(Remember { key, since }) = &remember
                && let Some(user) = by
                && let Some(earlier) = idempotency::recall(&txn, user, key, *since).await?
            {
                let answer = answer::<K>(&txn, key, earlier, shape).await;
                txn.rollback().await?;
                return answer;
            }
            let applied = async {
                if let Some(limit) = &limit {
                    hold_limit::check::<K>(&txn, limit, Timestamp::now()).await?;
                }
                apply(&txn, by, target).await
            };
            let written = match applied.await {
                Ok(written) => written,
                Err(error) => {
                    txn.rollback().await?;
                    return repository.after_failure(by, remember, error, shape).await;
                }
            };
            if let Some(Remember { key, .. }) = &remember
                && let Some(user) = by
                && let Err(error) = idempotency::remember(&txn, user, key, written.revision).await
            {
                txn.rollback().await?;
                return repository
                    .after_failure(by, remember, error.into(), shape)
                    .await;
            }
            txn.commit().await?;
            if let Some(last) = written.last {
                store.feed().advance(last);
            }
            Ok(written.items)
        })
        .await
    }

    /// A write under a `request_id` that failed may have lost a race with a
    /// retry of itself: then the retry's answer is the answer.
    async fn after_failure(
        &self,
        by: Option<UserId>,
        remember: Option<Remember>,
        error: Error,
        shape: Shape,
    ) -> Result<Vec<Item<K>>> {
        let (Some(by), Some(Remember { key, since })) = (by, remember) else {
            return Err(error);
        };
        let db = self.store.connection()?;
        match idempotency::recall(db, by, &key, since).await? {
            Some(earlier) => answer::<K>(db, &key, earlier, shape).await,
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

/// Writes the items and their changes, each with the next revision.
async fn apply<K: StoredKind, F>(
    txn: &DatabaseTransaction,
    by: Option<UserId>,
    target: Target<K, F>,
) -> Result<Written<K>>
where
    F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>>,
{
    match target {
        Target::New(item) => {
            insert(txn, &item).await.map_err(|e| taken_or(e, &item))?;
            let at = item.updated_at;
            let revision = record(txn, &item, ChangeType::Created, by, at, None).await?;
            Ok(Written {
                items: vec![item],
                revision,
                last: Some(revision),
            })
        }
        Target::Existing(id, decide) => {
            let current = for_update::<K>(txn, id)
                .await?
                .ok_or(Error::NotFound(K::RESOURCE))?;
            let (item, change) = change_locked(txn, by, current, decide).await?;
            let revision = match change {
                Some(revision) => revision,
                None => latest_revision::<K>(txn, id).await?,
            };
            Ok(Written {
                items: vec![item],
                revision,
                last: change,
            })
        }
        Target::Allocation(allocation) => allocate(txn, by, allocation).await,
    }
}

/// Changes a locked item as `decide` says. A hold found expired is recorded
/// as such first, so that the write decides on the item as every read
/// already sees it, and the expiry is recorded once, by whichever write or
/// sweep locks the item first. Returns the item and the revision of the
/// last change made, if any.
async fn change_locked<K: StoredKind, F>(
    txn: &DatabaseTransaction,
    by: Option<UserId>,
    mut current: Item<K>,
    decide: F,
) -> Result<(Item<K>, Option<Revision>)>
where
    F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>>,
{
    let at = Timestamp::now_after(current.updated_at);
    let mut expired = None;
    if let Some(hold) = current.hold.filter(|hold| hold.expire_time <= at) {
        // Reads stopped showing the hold at its expiry: the item as seen
        // does not change now, so neither do its `updated_at` and etag.
        let before = Placement::of(&current);
        current.hold = None;
        overwrite(txn, &current).await?;
        let change = ChangeType::HoldExpired;
        expired = Some(record(txn, &current, change, None, hold.expire_time, before).await?);
    }
    let before = Placement::of(&current);
    match decide(current, at)? {
        Effect::Unchanged(item) => Ok((item, expired)),
        Effect::Changed(item, change_type) => {
            overwrite(txn, &item)
                .await
                .map_err(|e| taken_or(e, &item))?;
            let at = item.updated_at;
            let revision = record(txn, &item, change_type, by, at, before).await?;
            Ok((item, Some(revision)))
        }
    }
}

/// Locks the items an allocation takes and assigns or holds them, in a
/// few statements whatever their number: one update of the items, one run
/// of revisions, one insert of the changes. Fewer available than asked is
/// NOT_ENOUGH_AVAILABLE, and nothing is written.
async fn allocate<K: StoredKind>(
    txn: &DatabaseTransaction,
    by: Option<UserId>,
    allocation: Allocation,
) -> Result<Written<K>> {
    let Allocation {
        organization_id,
        count,
        country,
        prefix,
        hold,
    } = allocation;
    // Nobody's hold, the organization's own included: two allocations for
    // one organization (two of a reseller's customers) must not get the
    // same items.
    let filter = Filter::<K> {
        shared: Some(true),
        countries: country.into_iter().collect(),
        ..Filter::available_to(None, Timestamp::now())
    };
    let found = lock_available(txn, &filter, prefix.as_ref(), count as usize).await?;
    if found.len() < count as usize {
        return Err(Error::NotEnoughAvailable {
            resource: K::RESOURCE,
            available: found.len() as u64,
        });
    }
    // One instant for all, after each item's last write.
    let at = found
        .iter()
        .map(|item| Timestamp::now_after(item.updated_at))
        .max()
        .unwrap_or_else(Timestamp::now);
    let mut changes = Vec::with_capacity(found.len());
    let mut items = Vec::with_capacity(found.len());
    for mut item in found {
        if let Some(ended) = item.hold.filter(|hold| hold.expire_time <= at) {
            // As in `change_locked`: the expiry first, as reads saw it.
            let before = Placement::of(&item);
            item.hold = None;
            changes.push(change(
                &item,
                ChangeType::HoldExpired,
                None,
                ended.expire_time,
                before,
            ));
        }
        let before = Placement::of(&item);
        item.touch(by, at);
        let change_type = match hold {
            Some(ttl) => {
                item.hold_for(organization_id, at.plus(ttl.get()));
                ChangeType::Held
            }
            None => {
                item.assign_to(organization_id);
                ChangeType::Assigned
            }
        };
        changes.push(change(&item, change_type, by, at, before));
        items.push(item);
    }
    // Every item now has the same holder, hold, rest and audit fields.
    let mut update = K::Entity::update_many();
    for (field, value) in row(&items[0]) {
        if matches!(
            field,
            Field::OrganizationId
                | Field::HoldOrganizationId
                | Field::HoldExpireTime
                | Field::AgingExpireTime
                | Field::UpdatedAt
                | Field::UpdatedBy
        ) {
            update = update.col_expr(K::column(field), Expr::value(value));
        }
    }
    update
        .filter(K::column(Field::Id).is_in(items.iter().map(|item| item.id)))
        .exec(txn)
        .await?;
    let (first, last) = log(txn, &mut changes).await?;
    Ok(Written {
        items,
        revision: first,
        last: Some(last),
    })
}

/// Locks up to `count` items that `filter` keeps (and that start with
/// `prefix`), lowest identifiers first. Candidates are read without locks,
/// then locked by id; only the rows taken are locked (a locking read that
/// sorts would lock every row it examined on MariaDB).
///
/// The first pass skips rows other writers hold (PostgreSQL and MariaDB),
/// so that concurrent allocations take different items rather than wait on
/// each other. If that leaves too few, and rows were skipped, a second pass
/// waits for their writers: one that rolls back (a deadlock's loser, about
/// to retry) leaves them free, and "not enough" must not be said while they
/// are undecided.
async fn lock_available<K: StoredKind>(
    txn: &DatabaseTransaction,
    filter: &Filter<K>,
    prefix: Option<&NumberPrefix>,
    count: usize,
) -> Result<Vec<Item<K>>> {
    let backend = txn.get_database_backend();
    let key = || K::column(Field::ValueKey);
    let available = || {
        let mut select =
            K::Entity::find().filter(selection(backend, Visibility::Everything, filter));
        if let Some(prefix) = prefix {
            // Digits only: nothing in the pattern needs escaping.
            select = select.filter(key().like(format!("{}%", prefix.digits())));
        }
        select
    };
    let mut locked: Vec<Item<K>> = Vec::with_capacity(count);
    for wait in [false, true] {
        let mine: HashSet<ItemId> = locked.iter().map(|item| item.id).collect();
        let mut skipped = false;
        let mut after: Option<(String, ItemId)> = None;
        while locked.len() < count {
            let need = (count - locked.len()) as u64;
            let mut candidates = available();
            if let Some((last_key, last_id)) = after.clone() {
                candidates = candidates.filter(
                    Condition::any().add(key().gt(last_key.clone())).add(
                        Condition::all()
                            .add(key().eq(last_key))
                            .add(K::column(Field::Id).gt(last_id)),
                    ),
                );
            }
            let candidates: Vec<(String, ItemId)> = candidates
                .select_only()
                .column(key())
                .column(K::column(Field::Id))
                .order_by_asc(key())
                .order_by_asc(K::column(Field::Id))
                .limit(need)
                .into_tuple()
                .all(txn)
                .await?;
            let Some(last) = candidates.last().cloned() else {
                break;
            };
            after = Some(last);
            // The second pass reads past the rows the first one took.
            let ids: Vec<ItemId> = candidates
                .iter()
                .map(|(_, id)| *id)
                .filter(|id| !mine.contains(id))
                .collect();
            if !ids.is_empty() {
                let to_lock = ids.len();
                let select = available()
                    .filter(K::column(Field::Id).is_in(ids))
                    .order_by_asc(key())
                    .order_by_asc(K::column(Field::Id));
                let select = if wait {
                    select.lock(LockType::Update)
                } else {
                    select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                };
                let mut taken = select.into_model::<Item<K>>().all(txn).await?;
                skipped |= taken.len() < to_lock;
                locked.append(&mut taken);
            }
            if (candidates.len() as u64) < need {
                break;
            }
        }
        if locked.len() == count || !skipped {
            break;
        }
    }
    locked.sort_by(|a, b| a.value.key().cmp(&b.value.key()).then(a.id.cmp(&b.id)));
    Ok(locked)
}

/// A change of `item` (as it is now), its revision yet to be taken.
pub(super) fn change<K: StoredKind>(
    item: &Item<K>,
    change_type: ChangeType,
    by: Option<UserId>,
    at: Timestamp,
    before: Option<Placement>,
) -> Change<K> {
    Change {
        revision: Revision::ZERO,
        change_type,
        at,
        by,
        item: item.clone(),
        before,
    }
}

/// Numbers `changes` with a run of revisions taken at once and inserts
/// them in a few statements. Returns the first and last revision.
pub(super) async fn log<K: StoredKind>(
    txn: &DatabaseTransaction,
    changes: &mut [Change<K>],
) -> Result<(Revision, Revision)> {
    let n = u32::try_from(changes.len()).map_err(Error::internal)?;
    let last = revisions::take(txn, n).await?;
    let first = last.get() - i64::from(n) + 1;
    for (offset, change) in changes.iter_mut().enumerate() {
        change.revision = Revision::from(first + offset as i64);
    }
    let columns: Vec<&str> = change_row(&changes[0])
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let rows = changes
        .iter()
        .map(|change| {
            change_row(change)
                .into_iter()
                .map(|(_, value)| value)
                .collect()
        })
        .collect();
    bulk::insert_rows(txn, K::CHANGES, &columns, rows).await?;
    Ok((Revision::from(first), last))
}

/// Logs a change of `item` (as it is now written) with the next revision.
async fn record<K: StoredKind>(
    txn: &DatabaseTransaction,
    item: &Item<K>,
    change_type: ChangeType,
    by: Option<UserId>,
    at: Timestamp,
    before: Option<Placement>,
) -> Result<Revision> {
    let mut changes = [change(item, change_type, by, at, before)];
    Ok(log(txn, &mut changes).await?.0)
}

async fn insert<K: StoredKind>(txn: &DatabaseTransaction, item: &Item<K>) -> Result<(), DbErr> {
    insert_all(txn, std::slice::from_ref(item)).await
}

/// Inserts `items` in multi-row statements.
pub(super) async fn insert_all<K: StoredKind>(
    txn: &DatabaseTransaction,
    items: &[Item<K>],
) -> Result<(), DbErr> {
    let Some(first) = items.first() else {
        return Ok(());
    };
    let columns: Vec<&str> = row(first)
        .iter()
        .map(|(field, _)| K::column(*field).as_str())
        .collect();
    let rows = items
        .iter()
        .map(|item| row(item).into_iter().map(|(_, value)| value).collect())
        .collect();
    let table = K::Entity::default().table_name().to_owned();
    bulk::insert_rows(txn, &table, &columns, rows).await
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

/// What a write answers: one item, or the items of an allocation.
#[derive(Debug, Clone, Copy)]
enum Shape {
    One,
    Allocated(u32),
}

/// The one item of a single-item write.
fn one<K: StoredKind>(mut items: Vec<Item<K>>) -> Item<K> {
    items
        .pop()
        .expect("a single-item write answers with its item")
}

/// The answer remembered for `key`: the items as its changes left them, if
/// the request is the same.
async fn answer<K: StoredKind>(
    db: &impl ConnectionTrait,
    key: &RequestKey,
    earlier: Remembered,
    shape: Shape,
) -> Result<Vec<Item<K>>> {
    if earlier.fingerprint != key.fingerprint {
        return Err(Error::RequestIdReused);
    }
    let changes = match shape {
        Shape::One => change_at::<K>(db, earlier.revision)
            .await?
            .into_iter()
            .collect(),
        Shape::Allocated(count) => allocated_from::<K>(db, earlier.revision, count).await?,
    };
    if changes.is_empty() {
        return Err(Error::internal(format!(
            "the remembered revision {} is not in the log",
            earlier.revision.get()
        )));
    }
    Ok(changes.into_iter().map(|change| change.item).collect())
}

/// A unique violation means the identifier is taken.
fn taken_or<K: StoredKind>(error: DbErr, item: &Item<K>) -> Error {
    if is_taken(&error) {
        taken(item)
    } else {
        error.into()
    }
}

pub(super) fn taken<K: StoredKind>(item: &Item<K>) -> Error {
    Error::Taken {
        resource: K::RESOURCE,
        value: item.value.as_str().to_owned(),
        country: item.country,
    }
}

/// The item `id`, deleted or not, locked until the transaction ends: FOR
/// UPDATE on PostgreSQL and MariaDB; SQLite's write transaction already
/// excludes other writers.
async fn for_update<K: StoredKind>(
    txn: &impl ConnectionTrait,
    id: ItemId,
) -> Result<Option<Item<K>>, DbErr> {
    K::Entity::find()
        .filter(K::column(Field::Id).eq(id))
        .lock_exclusive()
        .into_model::<Item<K>>()
        .all(txn)
        .await
        .map(|mut found| found.pop())
}

/// A unique violation on write means the identifier is in use: the only
/// unique index besides the (UUIDv7) primary key.
pub(super) fn is_taken(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
