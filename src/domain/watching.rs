//! What a watcher sees of each change: its view is what it could list, and
//! each change enters, changes in, or leaves that view.

use super::{
    Change, ChangeType, CountryCode, Item, OrganizationId, Placement, ResourceKind, Revision,
    Visibility,
};

/// The live items a watcher could list: its visibility and its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchView {
    pub visibility: Visibility,
    pub organization_id: Option<OrganizationId>,
    pub countries: Vec<CountryCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Removed,
}

/// One change to a watcher's view.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<K: ResourceKind> {
    pub event_type: EventType,
    pub revision: Revision,
    pub item: Item<K>,
}

impl WatchView {
    /// Whether an item placed so is in the view (`None`: not live).
    fn holds(&self, placement: Option<Placement>) -> bool {
        let Some(Placement {
            organization_id,
            country,
            held_for: _,
        }) = placement
        else {
            return false;
        };
        // A placement is a live item's.
        self.visibility.sees(true, organization_id)
            && self
                .organization_id
                .is_none_or(|wanted| organization_id == Some(wanted))
            && (self.countries.is_empty() || self.countries.contains(&country))
    }

    /// What `change` does to the view, if anything.
    pub fn event<K: ResourceKind>(&self, change: Change<K>) -> Option<Event<K>> {
        let Change {
            revision,
            item,
            before,
            change_type,
            ..
        } = change;
        let (was, is) = (self.holds(before), self.holds(Placement::of(&item)));
        let (event_type, item) = match (was, is) {
            (false, false) => return None,
            // An expiry changes nothing but the hold, which a reseller sees
            // only on its own organization's items.
            (true, true) if change_type == ChangeType::HoldExpired && !self.sees_hold(before) => {
                return None;
            }
            (false, true) => (EventType::Added, item),
            (true, true) => (EventType::Modified, item),
            (true, false) => (EventType::Removed, self.last_seen(item, before)),
        };
        Some(Event {
            event_type,
            revision,
            item,
        })
    }

    /// Whether the watcher saw the hold the item had, placed so.
    fn sees_hold(&self, placement: Option<Placement>) -> bool {
        match self.visibility {
            Visibility::Everything => true,
            Visibility::SharedOrOwn(own) => {
                placement.is_some_and(|p| p.held_for.is_some() && p.held_for == own)
            }
        }
    }

    /// An item that left the view, as the watcher may still see it: one that
    /// went to an organization the watcher may not see shows its holder
    /// from before, so that no other tenant's id is ever sent.
    fn last_seen<K: ResourceKind>(&self, mut item: Item<K>, before: Option<Placement>) -> Item<K> {
        if let Visibility::SharedOrOwn(own) = self.visibility
            && item.organization_id.is_some()
            && item.organization_id != own
        {
            item.organization_id = before.and_then(|placement| placement.organization_id);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        ChangeType, Did, Identifier, NewItem, PhoneNumber, Status, Timestamp, UserId,
    };
    use uuid::Uuid;

    fn org(n: u128) -> OrganizationId {
        OrganizationId::from(Uuid::from_u128(n))
    }

    fn change(
        before: Option<Option<OrganizationId>>,
        after: Option<OrganizationId>,
    ) -> Change<Did> {
        let country = CountryCode::parse("MA").unwrap();
        let new = NewItem {
            value: PhoneNumber::parse("+212500000001").unwrap(),
            country,
            description: None,
            status: Status::Active,
        };
        let mut item = Item::create(new, UserId::from(Uuid::from_u128(9)), Timestamp::now());
        item.organization_id = after;
        Change {
            revision: Revision::from(7),
            change_type: ChangeType::Assigned,
            at: item.updated_at,
            by: None,
            item,
            before: before.map(|organization_id| Placement {
                organization_id,
                country,
                held_for: None,
            }),
        }
    }

    fn reseller(n: u128) -> WatchView {
        WatchView {
            visibility: Visibility::SharedOrOwn(Some(org(n))),
            organization_id: None,
            countries: Vec::new(),
        }
    }

    #[test]
    fn a_shared_item_taken_by_another_tenant_leaves_a_resellers_view_without_its_id() {
        let event = reseller(1).event(change(Some(None), Some(org(2)))).unwrap();
        assert_eq!(event.event_type, EventType::Removed);
        assert_eq!(event.item.organization_id, None);
    }

    #[test]
    fn changes_between_other_tenants_are_not_sent() {
        assert_eq!(
            reseller(1).event(change(Some(Some(org(2))), Some(org(3)))),
            None
        );
        assert_eq!(reseller(1).event(change(None, Some(org(2)))), None);
    }

    #[test]
    fn a_hold_expiry_reaches_staff_and_the_holder_only() {
        let expiry = |held_for| {
            let mut change = change(Some(None), None);
            change.change_type = ChangeType::HoldExpired;
            change.before = change.before.map(|p| Placement { held_for, ..p });
            change
        };
        let staff = WatchView {
            visibility: Visibility::Everything,
            ..reseller(1)
        };
        assert!(staff.event(expiry(Some(org(2)))).is_some());
        assert!(reseller(2).event(expiry(Some(org(2)))).is_some());
        assert_eq!(reseller(1).event(expiry(Some(org(2)))), None);
    }

    #[test]
    fn an_item_coming_back_to_the_pool_is_added() {
        let event = reseller(1).event(change(Some(Some(org(2))), None)).unwrap();
        assert_eq!(event.event_type, EventType::Added);
        let own = reseller(2).event(change(Some(Some(org(2))), None)).unwrap();
        assert_eq!(own.event_type, EventType::Modified);
    }
}
