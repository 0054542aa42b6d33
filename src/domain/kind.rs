use super::{Identifier, PhoneNumber, SenderName};

/// What tells DIDs and Sender IDs apart. Everything else (rules, storage,
/// paging, streaming) is written once over this trait.
pub trait ResourceKind: std::fmt::Debug + Clone + PartialEq + Send + Sync + 'static {
    type Value: Identifier;
    /// The kind as a plain value, for errors and metrics.
    const RESOURCE: Resource;
    /// The request field that carries the identifier.
    const VALUE_FIELD: &'static str;
    /// The request field of the exact-match list filter.
    const VALUES_FIELD: &'static str;
    /// Whether an item that leaves an organization rests before it is
    /// offered again (`--aging-period`).
    const AGES: bool;
}

/// The resource kinds as values: what errors, scopes and metrics name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Did,
    SenderId,
}

impl Resource {
    /// How people call one item: "DID", "Sender ID".
    pub fn label(self) -> &'static str {
        match self {
            Resource::Did => "DID",
            Resource::SenderId => "Sender ID",
        }
    }

    /// The resource part of its scope names (`dids:read`, …) and metric
    /// labels.
    pub fn scope(self) -> &'static str {
        match self {
            Resource::Did => "dids",
            Resource::SenderId => "sender_ids",
        }
    }

    /// Whether its identifier is unique per country rather than everywhere
    /// (for messages; the database enforces it).
    pub fn unique_per_country(self) -> bool {
        self == Resource::SenderId
    }
}

/// Phone numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Did {}

/// Alphanumeric SMS originators.
#[derive(Debug, Clone, PartialEq)]
pub enum SenderId {}

impl ResourceKind for Did {
    type Value = PhoneNumber;
    const RESOURCE: Resource = Resource::Did;
    const VALUE_FIELD: &'static str = "number";
    const VALUES_FIELD: &'static str = "numbers";
    const AGES: bool = true;
}

impl ResourceKind for SenderId {
    type Value = SenderName;
    const RESOURCE: Resource = Resource::SenderId;
    const VALUE_FIELD: &'static str = "sender_id";
    const VALUES_FIELD: &'static str = "sender_ids";
    const AGES: bool = false;
}
