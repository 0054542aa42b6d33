//! One DID or Sender ID, and the changes an admin can make to it.

use super::{
    CountryCode, Description, Hold, ItemId, OrganizationId, ResourceKind, Status, Timestamp, UserId,
};

/// A stored item. `organization_id` is `None` while it is in the shared pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<K: ResourceKind> {
    pub id: ItemId,
    pub value: K::Value,
    pub country: CountryCode,
    pub description: Option<Description>,
    pub organization_id: Option<OrganizationId>,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    pub deleted_by: Option<UserId>,
    /// Kept for one organization until it expires (shared items only).
    pub hold: Option<Hold>,
    /// Until when a DID that left an organization rests before it can be
    /// held or allocated again.
    pub aging_expire_time: Option<Timestamp>,
}

/// A validated create request.
#[derive(Debug, Clone)]
pub struct NewItem<K: ResourceKind> {
    pub value: K::Value,
    pub country: CountryCode,
    pub description: Option<Description>,
    pub status: Status,
}

/// A validated update: `None` leaves a field as it is. For the description,
/// `Some(None)` clears it.
#[derive(Debug, Clone)]
pub struct Patch<K: ResourceKind> {
    pub value: Option<K::Value>,
    pub country: Option<CountryCode>,
    pub description: Option<Option<Description>>,
    pub status: Option<Status>,
}

impl<K: ResourceKind> Item<K> {
    /// A new item starts in the shared pool.
    pub fn create(new: NewItem<K>, by: UserId, at: Timestamp) -> Self {
        Self {
            id: ItemId::generate(),
            value: new.value,
            country: new.country,
            description: new.description,
            organization_id: None,
            status: new.status,
            created_at: at,
            updated_at: at,
            deleted_at: None,
            created_by: Some(by),
            updated_by: Some(by),
            deleted_by: None,
            hold: None,
            aging_expire_time: None,
        }
    }

    pub fn is_shared(&self) -> bool {
        self.organization_id.is_none()
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Applies a patch; the audit fields move only when something changed.
    /// Returns whether anything did.
    pub fn apply(&mut self, patch: Patch<K>, by: UserId, at: Timestamp) -> bool {
        let mut changed = false;
        set_if_different(&mut self.value, patch.value, &mut changed);
        set_if_different(&mut self.country, patch.country, &mut changed);
        set_if_different(&mut self.description, patch.description, &mut changed);
        set_if_different(&mut self.status, patch.status, &mut changed);
        if changed {
            self.touch(by, at);
        }
        changed
    }

    /// The item as a reseller of `organization` may see it: without the
    /// ids of the staff who wrote it, the rest a DID takes, or a hold that
    /// is not its organization's.
    pub fn for_reseller(self, organization: Option<OrganizationId>) -> Self {
        let hold = self
            .hold
            .filter(|hold| Some(hold.organization_id) == organization);
        Self {
            created_by: None,
            updated_by: None,
            deleted_by: None,
            hold,
            aging_expire_time: None,
            ..self
        }
    }

    /// Records a write by `by` (`None`: by the service itself) at `at`.
    pub fn touch(&mut self, by: impl Into<Option<UserId>>, at: Timestamp) {
        self.updated_at = at;
        self.updated_by = by.into();
    }
}

fn set_if_different<T: PartialEq>(field: &mut T, new: Option<T>, changed: &mut bool) {
    if let Some(new) = new
        && *field != new
    {
        *field = new;
        *changed = true;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{Did, Identifier, PhoneNumber};

    /// A new DID in the shared pool.
    pub(crate) fn did() -> Item<Did> {
        let new = NewItem {
            value: PhoneNumber::parse("+212500000001").unwrap(),
            country: CountryCode::parse("MA").unwrap(),
            description: None,
            status: Status::Active,
        };
        Item::create(new, UserId::from(uuid::Uuid::nil()), Timestamp::now())
    }

    fn empty_patch() -> Patch<Did> {
        Patch {
            value: None,
            country: None,
            description: None,
            status: None,
        }
    }

    #[test]
    fn a_new_item_is_in_the_shared_pool() {
        let item = did();
        assert!(item.is_shared() && !item.is_deleted());
    }

    #[test]
    fn a_patch_that_changes_nothing_leaves_the_audit_fields() {
        let mut item = did();
        let before = item.clone();
        let same_status = Patch {
            status: Some(Status::Active),
            ..empty_patch()
        };
        assert!(!item.apply(
            same_status,
            UserId::from(uuid::Uuid::max()),
            Timestamp::now()
        ));
        assert_eq!(item, before);
    }

    #[test]
    fn a_patch_that_changes_something_moves_updated_by() {
        let mut item = did();
        let editor = UserId::from(uuid::Uuid::max());
        let patch = Patch {
            status: Some(Status::Reserved),
            ..empty_patch()
        };
        assert!(item.apply(patch, editor, Timestamp::now()));
        assert_eq!(
            (item.status, item.updated_by),
            (Status::Reserved, Some(editor))
        );
    }
}
