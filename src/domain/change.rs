//! The change log's vocabulary: revisions, what a change did, the item's
//! place before it, etags and the keys of retried writes.

use super::{CountryCode, Invalid, Item, OrganizationId, ResourceKind, Timestamp, UserId};
use sea_orm::DeriveValueType;
use sha2::{Digest, Sha256};

/// A point in the inventory's history: grows in commit order across both
/// kinds (writers take the next one from one counter row, which they hold
/// until they commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, DeriveValueType)]
pub struct Revision(i64);

impl Revision {
    /// Before every change.
    pub const ZERO: Revision = Revision(0);

    /// A revision a client sent: never negative.
    pub fn parse(value: i64) -> Result<Self, Invalid> {
        if value < 0 {
            return Err(Invalid::new("must not be negative"));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Revision {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

/// What a change did to an item. Stored by its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, DeriveValueType)]
#[sea_orm(
    value_type = "String",
    from_str = "ChangeType::parse",
    to_str = "ChangeType::as_str"
)]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
    Restored,
    Assigned,
    Unassigned,
    Held,
    HoldReleased,
    HoldExpired,
}

impl ChangeType {
    const ALL: [ChangeType; 9] = [
        ChangeType::Created,
        ChangeType::Updated,
        ChangeType::Deleted,
        ChangeType::Restored,
        ChangeType::Assigned,
        ChangeType::Unassigned,
        ChangeType::Held,
        ChangeType::HoldReleased,
        ChangeType::HoldExpired,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
            ChangeType::Restored => "restored",
            ChangeType::Assigned => "assigned",
            ChangeType::Unassigned => "unassigned",
            ChangeType::Held => "held",
            ChangeType::HoldReleased => "hold_released",
            ChangeType::HoldExpired => "hold_expired",
        }
    }

    pub fn parse(stored: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|change| change.as_str() == stored)
            .ok_or_else(|| Invalid::new(format!("unknown change type {stored:?}")))
    }
}

/// Where an item stood in every view before a change: whether it was live,
/// whose it was and its country. (`None` for an item that did not exist or
/// was deleted.) With the item after the change, it tells each watcher
/// whether the item entered, changed in or left its view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub organization_id: Option<OrganizationId>,
    pub country: CountryCode,
    /// The organization its hold was for, as stored (expired or not): a
    /// reseller sees only its own organization's holds.
    pub held_for: Option<OrganizationId>,
}

impl Placement {
    pub fn of<K: ResourceKind>(item: &Item<K>) -> Option<Self> {
        (!item.is_deleted()).then_some(Self {
            organization_id: item.organization_id,
            country: item.country,
            held_for: item.hold.map(|hold| hold.organization_id),
        })
    }
}

/// One committed change of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<K: ResourceKind> {
    pub revision: Revision,
    pub change_type: ChangeType,
    pub at: Timestamp,
    /// `None` for changes the service made by itself.
    pub by: Option<UserId>,
    /// The item right after the change.
    pub item: Item<K>,
    /// Where it stood before.
    pub before: Option<Placement>,
}

/// A version of an item (AIP-154): changes whenever the item does. Every
/// write moves `updated_at` strictly forward (see the store), so the id and
/// `updated_at` name one version; hashed, so that clients do not parse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etag(String);

impl Etag {
    pub fn of<K: ResourceKind>(item: &Item<K>) -> Self {
        let mut hash = Sha256::new();
        hash.update(item.id.as_uuid().as_bytes());
        hash.update(
            item.updated_at
                .as_datetime()
                .timestamp_micros()
                .to_be_bytes(),
        );
        let digest = hash.finalize();
        Self(
            digest[..8]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        )
    }

    /// An etag a client sent; empty means none. Etags are opaque: one this
    /// service never made is kept as it is and matches no item, so that it
    /// is ETAG_MISMATCH like any stale one, and only once the item is found.
    pub fn parse(input: &str) -> Option<Self> {
        (!input.is_empty()).then(|| Self(input.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's name for one write (AIP-155), and what the request was, so
/// that a retry gets the first answer and another request under the same
/// name is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub request_id: uuid::Uuid,
    /// A hash of the method and the whole request message.
    pub fingerprint: String,
}

impl RequestKey {
    /// The key of a request with `request_id` (empty means none).
    pub fn parse(request_id: &str, method: &str, message: &[u8]) -> Result<Option<Self>, Invalid> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let request_id = uuid::Uuid::try_parse(request_id)
            .ok()
            .filter(|id| !id.is_nil())
            .ok_or_else(|| Invalid::new("must be a UUID other than the nil one"))?;
        let mut hash = Sha256::new();
        hash.update(method.as_bytes());
        hash.update([0]);
        hash.update(message);
        let digest = hash.finalize();
        let fingerprint = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Self {
            request_id,
            fingerprint,
        }))
    }
}

/// What a write asks beyond its change: an etag to match and a name for
/// retries.
#[derive(Debug, Clone, Default)]
pub struct Precondition {
    pub etag: Option<Etag>,
    pub request: Option<RequestKey>,
}

/// What a write decided for the item it found.
#[derive(Debug)]
pub enum Effect<K: ResourceKind> {
    Changed(Item<K>, ChangeType),
    /// Nothing to do: the item already is as asked.
    Unchanged(Item<K>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_types_round_trip() {
        for change in ChangeType::ALL {
            assert_eq!(ChangeType::parse(change.as_str()), Ok(change));
        }
    }

    #[test]
    fn etags_are_opaque_and_a_foreign_one_matches_nothing() {
        assert!(Etag::parse("").is_none());
        let foreign = Etag::parse("W/\"x\"").expect("kept as sent");
        assert_eq!(foreign.as_str(), "W/\"x\"");
        assert_eq!(Etag::parse("0123456789abcdef").unwrap().as_str().len(), 16);
    }

    #[test]
    fn a_request_key_hashes_the_method_and_the_message() {
        let id = "0190d6e2-5e4b-7cc1-8b5a-2b7a1d3f4e5a";
        let a = RequestKey::parse(id, "CreateDid", b"one").unwrap().unwrap();
        let b = RequestKey::parse(id, "CreateDid", b"two").unwrap().unwrap();
        let c = RequestKey::parse(id, "CreateSenderId", b"one")
            .unwrap()
            .unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert!(RequestKey::parse("nope", "CreateDid", b"").is_err());
    }
}
