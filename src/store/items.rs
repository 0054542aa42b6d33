//! The item rows: creating one, changing one under its row lock, finding
//! one, and the ids of the holds that have ended. The database guards the
//! invariants (the unique index of live identifiers, the row lock of a
//! read-modify-write); the service decides what each write does.
//!
//! Reads by id ask for every matching row (there is at most one) rather than
//! `.one()`: its bound `LIMIT` makes SQLite re-prepare the statement on every
//! call (the planner reads the limit's value), which cost a sixth of a
//! `GetDid`'s time there.

use super::bulk;
use super::changelog::{insert_created, latest_revision, record};
use super::columns::{item_rows, row};
use super::entity::{Field, StoredKind};
use super::runner::{Applied, Write, Written};
use super::selection::selection;
use super::taken::taken_or;
use crate::domain::{
    ChangeType, Effect, Filter, Item, ItemId, Placement, Timestamp, UserId, Visibility,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Creates an item, with its change.
pub(super) struct Create<K: StoredKind> {
    pub item: Item<K>,
    pub by: UserId,
}

impl<K: StoredKind> Write<K> for Create<K> {
    type Answer = Item<K>;

    async fn apply(self, txn: &DatabaseTransaction) -> Result<Applied<Item<K>>> {
        let Self { item, by } = self;
        let revision = insert_created(txn, &item, by).await?;
        Ok(Applied::Commit(Written {
            answer: item,
            revision,
            last: Some(revision),
        }))
    }

    fn recalled(items: Vec<Item<K>>) -> Item<K> {
        one(items)
    }
}

/// Changes the item `id` (deleted or not) as `decide` says, given the item
/// as it is (locked until the write commits) and the write's instant.
pub(super) struct Change<F> {
    pub id: ItemId,
    pub by: Option<UserId>,
    pub decide: F,
}

impl<K, F> Write<K> for Change<F>
where
    K: StoredKind,
    F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
{
    type Answer = Item<K>;

    async fn apply(self, txn: &DatabaseTransaction) -> Result<Applied<Item<K>>> {
        let Self { id, by, decide } = self;
        let current = for_update::<K>(txn, id)
            .await?
            .ok_or(Error::NotFound(K::RESOURCE))?;
        let (item, change) = change_locked(txn, by, current, decide).await?;
        let revision = match change {
            Some(revision) => revision,
            None => latest_revision::<K>(txn, id).await?,
        };
        Ok(Applied::Commit(Written {
            answer: item,
            revision,
            last: change,
        }))
    }

    fn recalled(items: Vec<Item<K>>) -> Item<K> {
        one(items)
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
) -> Result<(Item<K>, Option<crate::domain::Revision>)>
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

/// The ids of up to `limit` items whose hold ended at `now` or before,
/// oldest first.
pub(super) async fn ended_holds<K: StoredKind>(
    db: &impl ConnectionTrait,
    now: Timestamp,
    limit: u64,
) -> Result<Vec<ItemId>, DbErr> {
    K::Entity::find()
        .select_only()
        .column(K::column(Field::Id))
        .filter(K::column(Field::HoldExpireTime).lte(now))
        .order_by_asc(K::column(Field::HoldExpireTime))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The item with this id, if `visibility` shows it and `filter` keeps it.
pub(super) async fn find<K: StoredKind>(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    visibility: Visibility,
    id: ItemId,
    filter: &Filter<K>,
) -> Result<Option<Item<K>>, DbErr> {
    let found = K::Entity::find()
        .filter(K::column(Field::Id).eq(id))
        .filter(selection(backend, visibility, filter))
        .into_model::<Item<K>>()
        .all(db)
        .await?;
    Ok(found.into_iter().next())
}

/// Inserts `items` in multi-row statements.
pub(super) async fn insert_all<K: StoredKind>(
    txn: &DatabaseTransaction,
    items: &[Item<K>],
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let (table, columns, rows) = item_rows(items);
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

/// The one item of a single-item write.
pub(super) fn one<K: StoredKind>(mut items: Vec<Item<K>>) -> Item<K> {
    items
        .pop()
        .expect("a single-item write answers with its item")
}
