//! The writes on an existing item (update, delete, undelete, assign,
//! unassign, hold, release) and allocation: each a closure of what it does
//! to the item as found, locked, after visibility and the etag.

use super::*;

impl<K: StoredKind> Service<K> {
    pub async fn update(
        &self,
        caller: &Caller,
        request: impl Parse<ItemUpdate<K>>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemUpdate {
            id,
            patch,
            precondition,
        } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            Ok(if item.apply(patch, by, at) {
                Effect::Changed(item, ChangeType::Updated)
            } else {
                Effect::Unchanged(item)
            })
        })
        .await
    }

    /// Soft-deletes a live item; a hold on it ends with it.
    pub async fn delete(&self, caller: &Caller, request: impl Parse<ItemWrite>) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            item.deleted_at = Some(at);
            item.deleted_by = Some(by);
            item.hold = None;
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Deleted))
        })
        .await
    }

    /// Brings a soft-deleted item back (AIP-164), unless its identifier has
    /// been taken by a live item since.
    pub async fn undelete(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        // Only admins undelete, and they see every item, deleted or not.
        let found = |_: &Item<K>| true;
        self.write_any(
            caller,
            by,
            id,
            precondition,
            None,
            found,
            move |mut item, at| {
                if !item.is_deleted() {
                    return Err(Error::NotDeleted(K::RESOURCE));
                }
                item.deleted_at = None;
                item.deleted_by = None;
                item.touch(by, at);
                Ok(Effect::Changed(item, ChangeType::Restored))
            },
        )
        .await
    }

    /// Gives a shared item to an organization. Assigning it again to the
    /// same one changes nothing; an item another organization has, or
    /// holds, is refused. Assigning a held item to its holder ends the
    /// hold; an admin's assignment takes a resting DID too.
    pub async fn assign(
        &self,
        caller: &Caller,
        request: impl Parse<AssignmentRequest>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let AssignmentRequest {
            id,
            organization_id,
            precondition,
        } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            match (item.organization_id, item.hold_at(at)) {
                (Some(holder), _) if holder == organization_id => Ok(Effect::Unchanged(item)),
                (Some(_), _) => Err(Error::AlreadyAssigned(K::RESOURCE)),
                (None, Some(hold)) if hold.organization_id != organization_id => {
                    Err(Error::Held(K::RESOURCE))
                }
                (None, _) => {
                    item.assign_to(organization_id);
                    item.touch(by, at);
                    Ok(Effect::Changed(item, ChangeType::Assigned))
                }
            }
        })
        .await
    }

    /// Returns an item to the shared pool; one already there is left as is.
    /// A DID then rests for `--aging-period` before it is offered again.
    pub async fn unassign(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        let aging = self.aging_period();
        self.write(caller, by, id, precondition, move |mut item, at| {
            if item.is_shared() {
                return Ok(Effect::Unchanged(item));
            }
            item.organization_id = None;
            item.aging_expire_time = aging.map(|period| at.plus(period));
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Unassigned))
        })
        .await
    }

    /// Holds a shared item for an organization, or extends that
    /// organization's hold to now plus the ttl.
    pub async fn hold(&self, caller: &Caller, request: impl Parse<HoldRequest>) -> Result<Item<K>> {
        let rights = caller.authorize_holds::<K>()?;
        let HoldRequest {
            id,
            organization_id,
            ttl,
            precondition,
        } = request.try_into()?;
        let organization_id = rights.for_organization(organization_id)?;
        let limit = rights
            .is_limited()
            .then(|| self.hold_limit(organization_id, 1, Some(id)));
        let by = rights.user_id();
        let decide = move |mut item: Item<K>, at: Timestamp| {
            if !item.is_available_to(organization_id, at) {
                return Err(Error::NotAvailable(K::RESOURCE));
            }
            item.hold_for(organization_id, at.plus(ttl.get()));
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Held))
        };
        let found = live_and_visible(caller);
        self.write_any(caller, by, id, precondition, limit, found, decide)
            .await
    }

    /// Ends the caller's hold (any hold, for an admin); an item the caller
    /// does not hold is left as is, so that a reseller learns nothing of
    /// other tenants' holds.
    pub async fn release_hold(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let rights = caller.authorize_holds::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = rights.user_id();
        self.write(
            caller,
            by,
            id,
            precondition,
            move |mut item, at| match item.hold_at(at) {
                Some(hold) if rights.may_release(hold.organization_id) => {
                    item.hold = None;
                    item.touch(by, at);
                    Ok(Effect::Changed(item, ChangeType::HoldReleased))
                }
                _ => Ok(Effect::Unchanged(item)),
            },
        )
        .await
    }

    /// Takes `count` items that nobody holds now (not even the
    /// organization: its holds are for other buyers), lowest identifiers
    /// first, and assigns or holds them all, or none.
    pub async fn allocate(
        &self,
        caller: &Caller,
        request: impl Parse<AllocationRequest>,
    ) -> Result<Vec<Item<K>>> {
        let (
            AllocationRequest {
                organization_id,
                count,
                country,
                prefix,
                hold,
                request,
            },
            limit,
        ) = {
            // Assigning is an admin's; holding is a reseller's too.
            let rights = caller.authorize_holds::<K>()?;
            let parsed: AllocationRequest = request.try_into()?;
            if parsed.hold.is_none() {
                caller.authorize_write::<K>()?;
            }
            rights.for_organization(parsed.organization_id)?;
            let limit = rights
                .is_limited()
                .then(|| self.hold_limit(parsed.organization_id, u64::from(parsed.count), None));
            (parsed, limit)
        };
        let by = caller.user_id();
        let remember = self.remember(Precondition {
            etag: None,
            request,
        });
        let allocation = Allocation {
            organization_id,
            count,
            country,
            prefix,
            hold,
        };
        let allocated = self
            .repository
            .allocate(allocation, by, remember, limit)
            .await?;
        let now = Timestamp::now();
        Ok(allocated
            .into_iter()
            .map(|item| shown_at(caller, item, now))
            .collect())
    }

    /// The hold limit of a reseller's write that adds `adding` holds for
    /// `organization` (or extends its hold of `extending`), checked by the
    /// store in the write's transaction.
    fn hold_limit(
        &self,
        organization: crate::domain::OrganizationId,
        adding: u64,
        extending: Option<ItemId>,
    ) -> HoldLimit {
        HoldLimit {
            organization_id: organization,
            max: self.changes.max_holds_per_organization,
            adding,
            extending,
        }
    }

    /// How long an item of this kind rests after it leaves an
    /// organization, if it does.
    fn aging_period(&self) -> Option<std::time::Duration> {
        let period = self.changes.aging_period;
        (K::AGES && !period.is_zero()).then_some(period)
    }
}
