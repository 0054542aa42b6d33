//! The one place that decides what each role may do.
//!
//! | role       | reads                                   | writes |
//! |------------|-----------------------------------------|--------|
//! | admin      | everything                              | yes    |
//! | accountant | everything                              | no     |
//! | reseller   | shared pool + own organization, no staff user ids, nothing deleted | no |
//!
//! A token's scopes narrow this further: each call needs the read or write
//! scope of its resource (`dids:read`, `sender_ids:write`, …).

use super::{Access, Caller, Role, Scopes};
use crate::domain::{OrganizationId, ResourceKind, UserId, Visibility};
use crate::error::Error;

/// Proof that the caller may change the inventory: write operations take one,
/// so none can run unchecked.
#[derive(Debug, Clone, Copy)]
pub struct Writer(UserId);

impl Writer {
    /// Who is writing, for the audit fields.
    pub fn user_id(&self) -> UserId {
        self.0
    }
}

/// Proof that the caller may hold and release items: admins for any
/// organization, a reseller for its own only, within the hold limit.
#[derive(Debug, Clone, Copy)]
pub struct HoldRights {
    user: UserId,
    /// The reseller's organization; `None` for an admin.
    own: Option<OrganizationId>,
}

impl HoldRights {
    pub fn user_id(&self) -> UserId {
        self.user
    }

    /// Whether the organization's holds count against the hold limit
    /// (a reseller's own; an admin's are not limited).
    pub fn is_limited(&self) -> bool {
        self.own.is_some()
    }

    /// `organization` checked: a reseller may name only its own.
    pub fn for_organization(&self, organization: OrganizationId) -> Result<OrganizationId, Error> {
        match self.own {
            Some(own) if own != organization => Err(Error::OrganizationForbidden),
            _ => Ok(organization),
        }
    }

    /// Whether a hold of `organization` is the caller's to release.
    pub fn may_release(&self, organization: OrganizationId) -> bool {
        self.own.is_none_or(|own| own == organization)
    }
}

impl Caller {
    /// Holds (and allocations that hold) are for admins, and for resellers
    /// on their own organization's behalf, with the resource's write scope.
    pub fn authorize_holds<K: ResourceKind>(&self) -> Result<HoldRights, Error> {
        let own = match self.role() {
            Role::Admin => None,
            Role::Reseller => self.organization_id(),
            Role::Accountant => {
                return Err(Error::RoleForbidden(
                    "the accountant role may not change the inventory".to_owned(),
                ));
            }
        };
        self.authorize_scope(K::RESOURCE.scope(), Access::Write)?;
        Ok(HoldRights {
            user: self.user_id(),
            own,
        })
    }

    /// Create, update, delete, assign and unassign are for admins, with the
    /// resource's write scope.
    pub fn authorize_write<K: ResourceKind>(&self) -> Result<Writer, Error> {
        match self.role() {
            Role::Admin => {
                self.authorize_scope(K::RESOURCE.scope(), Access::Write)?;
                Ok(Writer(self.user_id()))
            }
            role => Err(Error::RoleForbidden(format!(
                "the {} role may not change the inventory",
                role.as_str()
            ))),
        }
    }

    /// Every role reads, with the resource's read scope.
    pub fn authorize_read<K: ResourceKind>(&self) -> Result<(), Error> {
        self.authorize_scope(K::RESOURCE.scope(), Access::Read)
    }

    fn authorize_scope(&self, resource: &str, access: Access) -> Result<(), Error> {
        match self.scopes() {
            Some(scopes) if !scopes.grants(resource, access) => Err(Error::ScopeMissing {
                scope: Scopes::name(resource, access),
            }),
            _ => Ok(()),
        }
    }

    /// What this caller may see of the inventory: the one place that decides
    /// it. Staff see every item, deleted ones too; a reseller sees live items
    /// in the shared pool or held by its own organization, never another
    /// tenant's.
    pub fn visibility(&self) -> Visibility {
        match self.role() {
            Role::Admin | Role::Accountant => Visibility::Everything,
            Role::Reseller => Visibility::SharedOrOwn(self.organization_id()),
        }
    }

    /// Staff see deleted items (on request) and the staff user ids.
    pub fn is_staff(&self) -> bool {
        matches!(self.role(), Role::Admin | Role::Accountant)
    }

    /// History and point-in-time reads are for staff: a number's history
    /// names the organizations that held it before.
    pub fn authorize_history<K: ResourceKind>(&self) -> Result<(), Error> {
        self.authorize_read::<K>()?;
        if self.is_staff() {
            Ok(())
        } else {
            Err(Error::RoleForbidden(
                "history is for admins and accountants".to_owned(),
            ))
        }
    }

    /// `show_deleted` is for staff.
    pub fn authorize_show_deleted(&self) -> Result<(), Error> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(Error::RoleForbidden(
                "show_deleted is for admins and accountants".to_owned(),
            ))
        }
    }

    /// The organization a request names, checked: staff may name any, a
    /// reseller only its own. `None` when none is named.
    pub fn authorize_organization(
        &self,
        named: Option<OrganizationId>,
    ) -> Result<Option<OrganizationId>, Error> {
        match named {
            Some(other) if !self.is_staff() && Some(other) != self.organization_id() => {
                Err(Error::OrganizationForbidden)
            }
            named => Ok(named),
        }
    }

    /// The organization whose available items a request is about: the one
    /// named (checked as above), else the caller's own, else none (the shared
    /// pool alone).
    pub fn availability_for(
        &self,
        named: Option<OrganizationId>,
    ) -> Result<Option<OrganizationId>, Error> {
        Ok(self
            .authorize_organization(named)?
            .or(self.organization_id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Did, SenderId, UserId};
    use uuid::Uuid;

    fn org(n: u128) -> OrganizationId {
        OrganizationId::from(Uuid::from_u128(n))
    }

    fn caller(role: Role, organization: Option<OrganizationId>) -> Caller {
        Caller::new(UserId::from(Uuid::from_u128(7)), role, organization).unwrap()
    }

    #[test]
    fn only_admins_write() {
        assert!(caller(Role::Admin, None).authorize_write::<Did>().is_ok());
        assert!(
            caller(Role::Accountant, None)
                .authorize_write::<Did>()
                .is_err()
        );
        let reseller = caller(Role::Reseller, Some(org(1)));
        assert!(reseller.authorize_write::<Did>().is_err());
    }

    #[test]
    fn scopes_narrow_a_role() {
        let scoped = |claim: &str| {
            caller(Role::Admin, None).with_scopes(Some(Scopes::parse(claim).unwrap()))
        };
        assert!(scoped("dids:write").authorize_write::<Did>().is_ok());
        assert!(scoped("dids:read").authorize_write::<Did>().is_err());
        assert!(scoped("dids:write").authorize_read::<Did>().is_err());
        assert!(scoped("dids:read").authorize_read::<SenderId>().is_err());
        assert!(
            scoped("sender_ids:read")
                .authorize_read::<SenderId>()
                .is_ok()
        );
    }

    #[test]
    fn resellers_see_the_shared_pool_and_their_own() {
        assert_eq!(
            caller(Role::Reseller, Some(org(1))).visibility(),
            Visibility::SharedOrOwn(Some(org(1)))
        );
        assert_eq!(
            caller(Role::Accountant, None).visibility(),
            Visibility::Everything
        );
    }

    #[test]
    fn resellers_name_only_their_own_organization() {
        let reseller = caller(Role::Reseller, Some(org(1)));
        assert_eq!(
            reseller.authorize_organization(Some(org(1))).unwrap(),
            Some(org(1))
        );
        assert!(reseller.authorize_organization(Some(org(2))).is_err());
        assert_eq!(
            caller(Role::Accountant, None)
                .availability_for(Some(org(2)))
                .unwrap(),
            Some(org(2))
        );
        assert_eq!(reseller.availability_for(None).unwrap(), Some(org(1)));
    }

    #[test]
    fn a_reseller_needs_an_organization() {
        assert!(Caller::new(UserId::from(Uuid::nil()), Role::Reseller, None).is_err());
    }
}
