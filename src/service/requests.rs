//! What each RPC asks, once converted from the wire and before the caller's
//! rights apply.

use crate::domain::{
    CountryCode, ItemId, OrganizationId, PageRequest, PageToken, Patch, ResourceKind, SearchText,
    Sort, SortOrder, Status,
};

/// `Update…`: which item, and what changes.
#[derive(Debug)]
pub struct ItemUpdate<K: ResourceKind> {
    pub id: ItemId,
    pub patch: Patch<K>,
}

/// `Assign…`: which item, to whom.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentRequest {
    pub id: ItemId,
    pub organization_id: OrganizationId,
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
