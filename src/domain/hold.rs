//! Holds and aging: how long a shared item is kept for one organization,
//! how long a released DID rests, and whether an item can be held now.

use super::{Invalid, Item, OrganizationId, ResourceKind, Status, Timestamp};
use std::time::Duration;

/// A shared item kept for one organization until `expire_time`. From that
/// instant it is gone for every read, whether or not the service has yet
/// recorded its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub organization_id: OrganizationId,
    pub expire_time: Timestamp,
}

/// How long a hold lasts: 1 s to 24 h, 30 min unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldTtl(Duration);

impl HoldTtl {
    const DEFAULT: Duration = Duration::from_secs(30 * 60);
    const MIN: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(24 * 60 * 60);

    /// A ttl a client sent; `None` is the default.
    pub fn parse(ttl: Option<Duration>) -> Result<Self, Invalid> {
        let ttl = ttl.unwrap_or(Self::DEFAULT);
        if !(Self::MIN..=Self::MAX).contains(&ttl) {
            return Err(Invalid::new("must be from 1s to 24h"));
        }
        Ok(Self(ttl))
    }

    pub fn get(self) -> Duration {
        self.0
    }
}

impl Timestamp {
    /// This instant plus `duration` (saturating at the end of time).
    pub fn plus(self, duration: Duration) -> Timestamp {
        chrono::Duration::from_std(duration)
            .ok()
            .and_then(|d| self.as_datetime().checked_add_signed(d))
            .map(Timestamp::from)
            .unwrap_or(Timestamp::from(chrono::DateTime::<chrono::Utc>::MAX_UTC))
    }
}

impl<K: ResourceKind> Item<K> {
    /// The hold as it stands at `now`: an expired one is none.
    pub fn hold_at(&self, now: Timestamp) -> Option<Hold> {
        self.hold.filter(|hold| hold.expire_time > now)
    }

    /// Whether the item still rests after leaving an organization.
    pub fn is_aging(&self, now: Timestamp) -> bool {
        self.aging_expire_time.is_some_and(|until| until > now)
    }

    /// Whether `organization` could hold (or be allocated) the item now: a
    /// live, active, shared item that rests no more and that no other
    /// organization holds.
    pub fn is_available_to(&self, organization: OrganizationId, now: Timestamp) -> bool {
        !self.is_deleted()
            && self.status == Status::Active
            && self.is_shared()
            && !self.is_aging(now)
            && self
                .hold_at(now)
                .is_none_or(|hold| hold.organization_id == organization)
    }

    /// Gives the item to `organization`: a hold or a rest ends with it.
    pub fn assign_to(&mut self, organization: OrganizationId) {
        self.organization_id = Some(organization);
        self.hold = None;
        self.aging_expire_time = None;
    }

    /// Holds the item for `organization` until `expire_time`.
    pub fn hold_for(&mut self, organization: OrganizationId, expire_time: Timestamp) {
        self.hold = Some(Hold {
            organization_id: organization,
            expire_time,
        });
    }

    /// The item as seen at `now`: an expired hold or a finished rest is
    /// shown as none.
    pub fn as_seen_at(mut self, now: Timestamp) -> Self {
        self.hold = self.hold_at(now);
        if !self.is_aging(now) {
            self.aging_expire_time = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::item::tests::did;

    fn organization(n: u128) -> OrganizationId {
        OrganizationId::from(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn ttls_run_from_a_second_to_a_day() {
        assert_eq!(HoldTtl::parse(None).unwrap().get(), HoldTtl::DEFAULT);
        assert!(HoldTtl::parse(Some(Duration::from_millis(999))).is_err());
        assert!(HoldTtl::parse(Some(Duration::from_secs(86_401))).is_err());
        assert!(HoldTtl::parse(Some(Duration::from_secs(86_400))).is_ok());
    }

    #[test]
    fn an_expired_hold_is_none() {
        let now = Timestamp::now();
        let mut item = did();
        item.hold_for(organization(1), now);
        assert_eq!(item.hold_at(now), None);
        assert!(item.is_available_to(organization(2), now));
        let before = Timestamp::from(now.as_datetime() - chrono::Duration::seconds(1));
        assert!(item.hold_at(before).is_some());
        assert!(!item.is_available_to(organization(2), before));
        assert!(item.is_available_to(organization(1), before));
    }

    #[test]
    fn an_aging_item_is_not_available() {
        let now = Timestamp::now();
        let mut item = did();
        item.aging_expire_time = Some(now.plus(Duration::from_secs(60)));
        assert!(!item.is_available_to(organization(1), now));
        assert!(item.is_available_to(organization(1), now.plus(Duration::from_secs(61))));
    }
}
