//! What each RPC asks, once converted from the wire and before the caller's
//! rights apply.

use crate::domain::{
    CountryCode, HoldTtl, ItemId, NewItem, NumberPrefix, OrganizationId, PageRequest, PageToken,
    Patch, Precondition, RequestKey, ResourceKind, Revision, SearchText, Sort, SortOrder, Status,
    Timestamp,
};

/// `Create…`: the item, and the write's `request_id`.
#[derive(Debug)]
pub struct CreateRequest<K: ResourceKind> {
    pub new: NewItem<K>,
    pub request: Option<RequestKey>,
}

/// `Update…`: which item, and what changes.
#[derive(Debug)]
pub struct ItemUpdate<K: ResourceKind> {
    pub id: ItemId,
    pub patch: Patch<K>,
    pub precondition: Precondition,
}

/// `Delete…`, `Unassign…`: which item.
#[derive(Debug)]
pub struct ItemWrite {
    pub id: ItemId,
    pub precondition: Precondition,
}

/// `Assign…`: which item, to whom.
#[derive(Debug)]
pub struct AssignmentRequest {
    pub id: ItemId,
    pub organization_id: OrganizationId,
    pub precondition: Precondition,
}

/// `Hold…`: which item, for whom, how long.
#[derive(Debug)]
pub struct HoldRequest {
    pub id: ItemId,
    pub organization_id: OrganizationId,
    pub ttl: HoldTtl,
    pub precondition: Precondition,
}

/// `AllocateDids`: how many, which, for whom, and whether to hold them
/// rather than assign them.
#[derive(Debug)]
pub struct AllocationRequest {
    pub organization_id: OrganizationId,
    pub count: u32,
    pub country: Option<CountryCode>,
    pub prefix: Option<NumberPrefix>,
    /// `Some`: hold for this long; `None`: assign.
    pub hold: Option<HoldTtl>,
    pub request: Option<RequestKey>,
}

/// `List…History`: which item, which pages.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRequest {
    pub id: ItemId,
    pub paging: PageRequest,
    pub all_pages: bool,
}

/// `Get…AsOf`: which identifier (in which country, for Sender IDs), when.
#[derive(Debug)]
pub struct AsOfRequest<K: ResourceKind> {
    pub value: K::Value,
    pub country: Option<CountryCode>,
    pub at: Timestamp,
}

/// `Watch…`: from where, and which items.
#[derive(Debug)]
pub struct WatchRequest {
    /// `None`: from now.
    pub start: Option<Revision>,
    pub initial_state: bool,
    pub organization_id: Option<OrganizationId>,
    pub countries: Vec<CountryCode>,
}

/// `List…` as the client asked.
#[derive(Debug)]
pub struct ListRequest<K: ResourceKind> {
    pub status: Option<Status>,
    pub shared: Option<bool>,
    pub organization_id: Option<OrganizationId>,
    pub countries: Vec<CountryCode>,
    pub values: Vec<K::Value>,
    pub search: Option<SearchText>,
    pub show_deleted: bool,
    pub sort: Sort,
    pub paging: PageRequest,
    pub page_token: Option<PageToken>,
    pub all_pages: bool,
}

/// `ListAvailable…` as the client asked.
#[derive(Debug, Clone)]
pub struct AvailableRequest {
    pub organization_id: Option<OrganizationId>,
    pub search: Option<SearchText>,
    pub order: SortOrder,
    pub paging: PageRequest,
    pub page_token: Option<PageToken>,
    pub all_pages: bool,
}

/// `GetAvailable…`: which item, for which organization.
#[derive(Debug, Clone, Copy)]
pub struct AvailableLookup {
    pub id: ItemId,
    pub organization_id: Option<OrganizationId>,
}
