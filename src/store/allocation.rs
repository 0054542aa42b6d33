//! Allocation: the lowest available items of a country (and prefix),
//! locked without waiting on other allocations where the engine can skip
//! locked rows, and assigned or held in a few statements whatever their
//! number.

use super::changelog::{change, log};
use super::columns::row;
use super::entity::{Field, StoredKind};
use super::runner::{Applied, Write, Written};
use super::selection::selection;
use crate::domain::{
    ChangeType, CountryCode, Filter, HoldTtl, Identifier, Item, ItemId, NumberPrefix,
    OrganizationId, Placement, Timestamp, UserId, Visibility,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::{Condition, Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashSet;

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

/// An allocation, by `by`.
pub(super) struct Allocate {
    pub allocation: Allocation,
    pub by: UserId,
}

impl<K: StoredKind> Write<K> for Allocate {
    type Answer = Vec<Item<K>>;

    async fn apply(self, txn: &DatabaseTransaction) -> Result<Applied<Vec<Item<K>>>> {
        allocate(txn, self.by, self.allocation)
            .await
            .map(Applied::Commit)
    }

    fn recalled(items: Vec<Item<K>>) -> Vec<Item<K>> {
        items
    }
}

/// Locks the items an allocation takes and assigns or holds them, in a
/// few statements whatever their number: one update of the items, one run
/// of revisions, one insert of the changes. Fewer available than asked is
/// NOT_ENOUGH_AVAILABLE, and nothing is written.
async fn allocate<K: StoredKind>(
    txn: &DatabaseTransaction,
    by: UserId,
    allocation: Allocation,
) -> Result<Written<Vec<Item<K>>>> {
    let by = Some(by);
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
        answer: items,
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
