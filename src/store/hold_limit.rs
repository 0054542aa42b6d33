//! The per-organization hold limit, counted in the write's transaction
//! under a lock on the organization's row of `hold_limits`: concurrent holds
//! for one organization are counted one write at a time, so that together
//! they cannot pass the limit.

use super::entity::{Field, StoredKind};
use crate::domain::{ItemId, OrganizationId, Timestamp};
use crate::error::{Error, Result};
use sea_orm::sea_query::{Alias, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// A reseller's write that adds `adding` holds for `organization_id`
/// (extending the hold of `extending` adds none for it): refused with
/// HOLD_LIMIT_REACHED if the organization would hold more than `max` items
/// of the kind.
#[derive(Debug, Clone, Copy)]
pub struct HoldLimit {
    pub organization_id: OrganizationId,
    pub max: u32,
    pub adding: u64,
    pub extending: Option<ItemId>,
}

/// Locks the organization's row, creating it on its first hold. This must be
/// the transaction's first statement: MariaDB takes a repeatable read's
/// snapshot at the first plain read, which then comes after the lock and
/// sees every hold committed before it.
pub(super) async fn lock(txn: &impl ConnectionTrait, limit: &HoldLimit) -> Result<()> {
    let column = Alias::new("organization_id");
    let claim = Query::insert()
        .into_table(Alias::new("hold_limits"))
        .columns([column.clone()])
        .values_panic([limit.organization_id.into()])
        // An upsert that changes nothing still locks the existing row.
        .on_conflict(
            OnConflict::column(column.clone())
                .update_column(column)
                .to_owned(),
        )
        .to_owned();
    txn.execute(&claim).await?;
    Ok(())
}

/// Refuses the write if it would pass the limit, counting the holds live
/// at `now` (up to one past the limit: no more are needed to decide).
pub(super) async fn check<K: StoredKind>(
    txn: &impl ConnectionTrait,
    limit: &HoldLimit,
    now: Timestamp,
) -> Result<()> {
    let mut held = K::Entity::find()
        .select_only()
        .column(K::column(Field::Id))
        .filter(K::column(Field::HoldOrganizationId).eq(limit.organization_id))
        .filter(K::column(Field::HoldExpireTime).gt(now));
    if let Some(id) = limit.extending {
        held = held.filter(K::column(Field::Id).ne(id));
    }
    let held: Vec<ItemId> = held
        .limit(u64::from(limit.max) + 1)
        .into_tuple()
        .all(txn)
        .await?;
    if held.len() as u64 + limit.adding > u64::from(limit.max) {
        return Err(Error::HoldLimitReached { limit: limit.max });
    }
    Ok(())
}
