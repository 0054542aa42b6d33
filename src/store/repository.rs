//! Reads and writes of one resource kind. The database guards the invariants
//! (unique indexes for identifiers, conditional updates for assignment); the
//! store reports what it found and leaves the verdict to the service.
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
use super::columns::row;
use super::entity::{Field, StoredKind};
use super::selection::selection;
use crate::domain::{Filter, Item, ItemId, OrganizationId, Patch, Timestamp, UserId, Visibility};
use crate::error::{Error, Result};
use sea_orm::sea_query::{Condition, Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr, Value,
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

/// What a write found.
#[derive(Debug)]
pub enum Outcome<K: crate::domain::ResourceKind> {
    /// Written: the item as it now is.
    Done(Item<K>),
    /// The write's condition did not hold: the live item as it is.
    Refused(Item<K>),
    /// No live item has that id.
    Missing,
    /// Another live item has the identifier: the item as it was to be.
    Taken(Item<K>),
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

    /// Runs `work` on a clone of this repository, to its end.
    async fn detached<T, F>(&self, work: impl FnOnce(Self) -> F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        tokio::spawn(work(self.clone()).in_current_span())
            .await
            .map_err(|e| Error::internal(format!("the database call did not finish: {e}")))?
    }

    pub async fn insert(&self, item: Item<K>) -> Result<Outcome<K>> {
        self.detached(|repository| async move {
            let _writer = repository.store.writer().await;
            let (columns, values): (Vec<_>, Vec<_>) = row(&item)
                .into_iter()
                .map(|(field, value)| (K::column(field), Expr::value(value)))
                .unzip();
            let insert = Query::insert()
                .into_table(K::Entity::default())
                .columns(columns)
                .values_panic(values)
                .to_owned();
            match repository.store.connection()?.execute(&insert).await {
                Ok(_) => Ok(Outcome::Done(item)),
                Err(error) if is_taken(&error) => Ok(Outcome::Taken(item)),
                Err(error) => Err(error.into()),
            }
        })
        .await
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

    /// Applies a patch to a live item, under a row lock so that concurrent
    /// updates do not lose each other's changes.
    pub async fn update(
        &self,
        id: ItemId,
        patch: Patch<K>,
        by: UserId,
        at: Timestamp,
    ) -> Result<Outcome<K>> {
        self.detached(|repository| async move {
            let _writer = repository.store.writer().await;
            let txn = repository.store.begin_write().await?;
            let Some(mut item) = live_for_update::<K>(&txn, id).await? else {
                return Ok(Outcome::Missing);
            };
            if item.apply(patch, by, at) {
                let mut update = K::Entity::update_many();
                for (field, value) in row(&item) {
                    update = update.col_expr(K::column(field), Expr::value(value));
                }
                let updated = update.filter(K::column(Field::Id).eq(id)).exec(&txn).await;
                match updated {
                    Err(error) if is_taken(&error) => return Ok(Outcome::Taken(item)),
                    updated => updated?,
                };
            }
            txn.commit().await?;
            Ok(Outcome::Done(item))
        })
        .await
    }

    /// Gives an item to `organization` if it is in the shared pool: only an
    /// unassigned item matches the update, so of two concurrent assigns
    /// exactly one is done.
    pub async fn assign(
        &self,
        id: ItemId,
        organization: OrganizationId,
        by: UserId,
        at: Timestamp,
    ) -> Result<Outcome<K>> {
        let set = [(Field::OrganizationId, Some(organization).into())];
        let unassigned = Condition::all().add(K::column(Field::OrganizationId).is_null());
        self.transition(id, set, unassigned, by, at).await
    }

    /// Returns an item to the shared pool if it is assigned.
    pub async fn unassign(&self, id: ItemId, by: UserId, at: Timestamp) -> Result<Outcome<K>> {
        let set = [(Field::OrganizationId, Option::<OrganizationId>::None.into())];
        let assigned = Condition::all().add(K::column(Field::OrganizationId).is_not_null());
        self.transition(id, set, assigned, by, at).await
    }

    /// Soft-deletes a live item.
    pub async fn delete(&self, id: ItemId, by: UserId, at: Timestamp) -> Result<Outcome<K>> {
        let set = [
            (Field::DeletedAt, Some(at).into()),
            (Field::DeletedBy, Some(by).into()),
        ];
        self.transition(id, set, Condition::all(), by, at).await
    }

    /// Sets `changes` on the live item `id` if `guard` holds, in one
    /// conditional UPDATE, then reads the item back in the same transaction.
    async fn transition<const N: usize>(
        &self,
        id: ItemId,
        changes: [(Field, Value); N],
        guard: Condition,
        by: UserId,
        at: Timestamp,
    ) -> Result<Outcome<K>> {
        self.detached(|repository| async move {
            let _writer = repository.store.writer().await;
            let txn = repository.store.begin_write().await?;
            let mut update = K::Entity::update_many()
                .col_expr(K::column(Field::UpdatedAt), Expr::value(at))
                .col_expr(K::column(Field::UpdatedBy), Expr::value(by));
            for (field, value) in changes {
                update = update.col_expr(K::column(field), Expr::value(value));
            }
            let applied = update
                .filter(K::column(Field::Id).eq(id))
                .filter(K::column(Field::DeletedAt).is_null())
                .filter(guard)
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            let current = K::Entity::find()
                .filter(K::column(Field::Id).eq(id))
                .into_model::<Item<K>>()
                .all(&txn)
                .await?
                .pop();
            txn.commit().await?;
            Ok(match current {
                Some(item) if applied => Outcome::Done(item),
                Some(item) if !item.is_deleted() => Outcome::Refused(item),
                _ => Outcome::Missing,
            })
        })
        .await
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
