//! Reads and writes of one resource kind. The database guards the invariants:
//! unique indexes for identifiers, conditional updates for assignment.

use super::Store;
use super::entity::{Field, StoredKind};
use super::row::Row;
use crate::domain::{Item, ItemId, OrganizationId, Patch, ResourceKind, Timestamp, UserId};
use crate::error::{Error, Result, reason};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr, Value,
};
use std::marker::PhantomData;

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

/// What a conditional update found.
enum Transition<K: ResourceKind> {
    /// The guard held: the item after the change.
    Applied(Item<K>),
    /// The guard did not hold: the live item as it is, or `None` when there
    /// is no live item with that id.
    Refused(Option<Item<K>>),
}

pub(super) fn column<K: StoredKind>(field: Field) -> <K::Entity as EntityTrait>::Column {
    K::column(field)
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

    pub async fn insert(&self, item: &Item<K>) -> Result<()> {
        let _writer = self.store.writer().await;
        K::Entity::insert(K::ActiveModel::from(Row::from(item)))
            .exec_without_returning(self.store.connection()?)
            .await
            .map_err(|e| taken(e, item))?;
        Ok(())
    }

    /// The item with this id, deleted or not.
    pub async fn find(&self, id: ItemId) -> Result<Option<Item<K>>> {
        find_in::<K>(self.store.connection()?, id, false).await
    }

    /// Applies a patch to a live item, under a row lock so that concurrent
    /// updates do not lose each other's changes.
    pub async fn update(
        &self,
        id: ItemId,
        patch: Patch<K>,
        by: UserId,
        at: Timestamp,
    ) -> Result<Item<K>> {
        let _writer = self.store.writer().await;
        let txn = self.store.begin_write().await?;
        let mut item = find_in::<K>(&txn, id, true)
            .await?
            .filter(|item| !item.is_deleted())
            .ok_or_else(not_found::<K>)?;
        if item.apply(patch, by, at) {
            K::Entity::update_many()
                .set(K::ActiveModel::from(Row::from(&item)))
                .filter(column::<K>(Field::Id).eq(id.as_uuid()))
                .exec(&txn)
                .await
                .map_err(|e| taken(e, &item))?;
        }
        txn.commit().await?;
        Ok(item)
    }

    /// Gives a shared item to `organization`. Only an unassigned item
    /// matches the update, so of two concurrent assigns exactly one wins.
    pub async fn assign(
        &self,
        id: ItemId,
        organization: OrganizationId,
        by: UserId,
        at: Timestamp,
    ) -> Result<Item<K>> {
        let set = [(Field::OrganizationId, Some(organization.as_uuid()).into())];
        let unassigned = Condition::all().add(column::<K>(Field::OrganizationId).is_null());
        match self.transition(id, set, unassigned, by, at).await? {
            Transition::Applied(item) => Ok(item),
            Transition::Refused(Some(item)) if item.organization_id == Some(organization) => {
                Ok(item)
            }
            Transition::Refused(Some(_)) => Err(Error::FailedPrecondition {
                reason: reason::ALREADY_ASSIGNED,
                message: format!(
                    "the {} is assigned to another organization: unassign it first",
                    K::LABEL
                ),
            }),
            Transition::Refused(None) => Err(not_found::<K>()),
        }
    }

    /// Returns an item to the shared pool; one already there is left as is.
    pub async fn unassign(&self, id: ItemId, by: UserId, at: Timestamp) -> Result<Item<K>> {
        let set = [(Field::OrganizationId, Option::<uuid::Uuid>::None.into())];
        let assigned = Condition::all().add(column::<K>(Field::OrganizationId).is_not_null());
        match self.transition(id, set, assigned, by, at).await? {
            Transition::Applied(item) | Transition::Refused(Some(item)) => Ok(item),
            Transition::Refused(None) => Err(not_found::<K>()),
        }
    }

    /// Soft-deletes a live item.
    pub async fn delete(&self, id: ItemId, by: UserId, at: Timestamp) -> Result<Item<K>> {
        let set = [
            (Field::DeletedAt, Some(at.as_datetime()).into()),
            (Field::DeletedBy, Some(by.as_uuid()).into()),
        ];
        match self.transition(id, set, Condition::all(), by, at).await? {
            Transition::Applied(item) => Ok(item),
            Transition::Refused(_) => Err(not_found::<K>()),
        }
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
    ) -> Result<Transition<K>> {
        let _writer = self.store.writer().await;
        let txn = self.store.begin_write().await?;
        let mut update = K::Entity::update_many()
            .col_expr(column::<K>(Field::UpdatedAt), Expr::value(at.as_datetime()))
            .col_expr(column::<K>(Field::UpdatedBy), Expr::value(by.as_uuid()));
        for (field, value) in changes {
            update = update.col_expr(column::<K>(field), Expr::value(value));
        }
        let applied = update
            .filter(column::<K>(Field::Id).eq(id.as_uuid()))
            .filter(column::<K>(Field::DeletedAt).is_null())
            .filter(guard)
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        let current = find_in::<K>(&txn, id, false).await?;
        txn.commit().await?;
        Ok(match current {
            Some(item) if applied => Transition::Applied(item),
            Some(item) if !item.is_deleted() => Transition::Refused(Some(item)),
            _ => Transition::Refused(None),
        })
    }
}

async fn find_in<K: StoredKind>(
    conn: &impl ConnectionTrait,
    id: ItemId,
    lock: bool,
) -> Result<Option<Item<K>>> {
    let mut select = K::Entity::find().filter(column::<K>(Field::Id).eq(id.as_uuid()));
    if lock {
        // FOR UPDATE on PostgreSQL and MariaDB; SQLite's write transaction
        // already excludes other writers.
        select = select.lock_exclusive();
    }
    match select.one(conn).await? {
        Some(model) => Ok(Some(model.into().into_item()?)),
        None => Ok(None),
    }
}

pub fn not_found<K: ResourceKind>() -> Error {
    Error::NotFound {
        reason: K::NOT_FOUND_REASON,
        message: format!("{} not found", K::LABEL),
    }
}

/// A unique violation on write means the identifier is in use: the only
/// unique index besides the (UUIDv7) primary key.
fn taken<K: ResourceKind>(error: DbErr, item: &Item<K>) -> Error {
    use crate::domain::Identifier;
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyExists {
            reason: K::TAKEN_REASON,
            message: if K::UNIQUE_PER_COUNTRY {
                format!(
                    "{} {} is already in use in {}",
                    K::LABEL,
                    item.value.as_str(),
                    item.country.as_str()
                )
            } else {
                format!("{} {} is already in use", K::LABEL, item.value.as_str())
            },
        },
        _ => error.into(),
    }
}
