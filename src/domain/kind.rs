use super::{Identifier, PhoneNumber, SenderName};

/// What tells DIDs and Sender IDs apart. Everything else (rules, storage,
/// paging, streaming) is written once over this trait.
pub trait ResourceKind: Send + Sync + 'static {
    type Value: Identifier;
    /// How people call one item: "DID", "Sender ID".
    const LABEL: &'static str;
    /// The request field that carries the identifier.
    const VALUE_FIELD: &'static str;
    /// The request field of the exact-match list filter.
    const VALUES_FIELD: &'static str;
    /// `ErrorInfo` reason when the identifier is already in use.
    const TAKEN_REASON: &'static str;
    /// `ErrorInfo` reason when no such item is visible to the caller.
    const NOT_FOUND_REASON: &'static str;
    /// The resource part of its scope names (`dids:read`, …).
    const SCOPE: &'static str;
    /// Whether uniqueness is per country (in the error message only; the
    /// database enforces it).
    const UNIQUE_PER_COUNTRY: bool;
}

/// Phone numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Did {}

/// Alphanumeric SMS originators.
#[derive(Debug, Clone, PartialEq)]
pub enum SenderId {}

impl ResourceKind for Did {
    type Value = PhoneNumber;
    const LABEL: &'static str = "DID";
    const VALUE_FIELD: &'static str = "number";
    const VALUES_FIELD: &'static str = "numbers";
    const TAKEN_REASON: &'static str = "DID_NUMBER_TAKEN";
    const NOT_FOUND_REASON: &'static str = "DID_NOT_FOUND";
    const SCOPE: &'static str = "dids";
    const UNIQUE_PER_COUNTRY: bool = false;
}

impl ResourceKind for SenderId {
    type Value = SenderName;
    const LABEL: &'static str = "Sender ID";
    const VALUE_FIELD: &'static str = "sender_id";
    const VALUES_FIELD: &'static str = "sender_ids";
    const TAKEN_REASON: &'static str = "SENDER_ID_TAKEN";
    const NOT_FOUND_REASON: &'static str = "SENDER_ID_NOT_FOUND";
    const SCOPE: &'static str = "sender_ids";
    const UNIQUE_PER_COUNTRY: bool = true;
}
