//! Wire ⇄ domain conversions shared by both services: plain functions over
//! the fields the per-kind modules destructure from their messages.

mod reads;
mod writes;

pub use reads::*;
pub use writes::*;

use super::fields::AllValid;
use crate::domain::{
    ChangeType, CountryCode, Description, Etag, EventType, Hold, HoldTtl, Identifier, Invalid,
    ItemId, MAX_FILTER_VALUES, NewItem, NumberPrefix, OrganizationId, PageMeta, PageRequest,
    PageToken, Patch, Precondition, RequestKey, ResourceKind, Revision, SearchText, Sort,
    SortField, SortOrder, Status, Timestamp,
};
use crate::error::{Error, Result, RowError};
use crate::proto::v1 as pb;
use crate::service::{
    AllocationRequest, AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest,
    CreateRequest, HistoryRequest, HoldRequest, ImportBatch, ImportReply, ItemUpdate, ItemWrite,
    ListRequest, MAX_IMPORT_ROWS, WatchRequest,
};

fn field<T>(name: &str, parsed: Result<T, Invalid>) -> Result<T> {
    parsed.map_err(|rule| Error::invalid(name, rule))
}

pub fn item_id(id: &str) -> Result<ItemId> {
    field("id", ItemId::parse(id))
}

fn organization_id(id: &str) -> Result<OrganizationId> {
    field("organization_id", OrganizationId::parse(id))
}

fn optional_organization_id(id: Option<&str>) -> Result<Option<OrganizationId>> {
    id.map(organization_id).transpose()
}

pub fn unknown_enum(name: &str, value: i32) -> Error {
    Error::invalid(name, Invalid::new(format!("unknown value {value}")))
}

/// A wire status; STATUS_UNSPECIFIED is `None`.
fn status(name: &str, value: i32) -> Result<Option<Status>> {
    match pb::Status::try_from(value) {
        Ok(pb::Status::Unspecified) => Ok(None),
        Ok(pb::Status::Active) => Ok(Some(Status::Active)),
        Ok(pb::Status::Inactive) => Ok(Some(Status::Inactive)),
        Ok(pb::Status::Reserved) => Ok(Some(Status::Reserved)),
        Err(_) => Err(unknown_enum(name, value)),
    }
}

/// A status the request must state: STATUS_UNSPECIFIED is refused.
fn stated_status(name: &str, value: i32) -> Result<Status> {
    status(name, value)?
        .ok_or_else(|| Error::invalid(name, Invalid::new("must not be STATUS_UNSPECIFIED")))
}

fn sort_order(value: i32) -> Result<SortOrder> {
    match pb::SortOrder::try_from(value) {
        Ok(pb::SortOrder::Asc) => Ok(SortOrder::Asc),
        Ok(pb::SortOrder::Desc | pb::SortOrder::Unspecified) => Ok(SortOrder::Desc),
        Err(_) => Err(unknown_enum("sort_order", value)),
    }
}

fn paging(page: u32, limit: u32) -> Result<PageRequest> {
    field("limit", PageRequest::new(page, limit))
}

/// A page token; empty means none.
fn page_token(token: &str) -> Result<Option<PageToken>> {
    if token.is_empty() {
        return Ok(None);
    }
    PageToken::decode(token)
        .map(Some)
        .map_err(Error::InvalidPageToken)
}

fn search(text: &str) -> Result<Option<SearchText>> {
    field("search", SearchText::parse(text))
}

/// A repeated filter: at most 100 values, each valid; a bad one is named by
/// its index (`countries[2]`).
fn each<T>(
    name: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Vec<T>> {
    if values.len() > MAX_FILTER_VALUES {
        let rule = Invalid::new(format!("must have at most {MAX_FILTER_VALUES} values"));
        return Err(Error::invalid(name, rule));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, value)| field(&format!("{name}[{i}]"), parse(value)))
        .collect()
}

/// An import's answer to one message, row by row.
pub fn import_results<K: ResourceKind>(reply: ImportReply) -> Vec<pb::ImportRowResult> {
    let ImportReply { first_index, rows } = reply;
    rows.into_iter()
        .zip(first_index..)
        .map(|(row, index)| pb::ImportRowResult {
            index,
            result: Some(match row {
                Ok(id) => pb::import_row_result::Result::Id(id.to_string()),
                Err(error) => {
                    let RowError {
                        code,
                        reason,
                        field,
                        message,
                    } = error.for_row(K::VALUE_FIELD);
                    pb::import_row_result::Result::Error(pb::ImportRowError {
                        code: code.to_owned(),
                        reason: reason.to_owned(),
                        field: field.unwrap_or_default(),
                        message,
                    })
                }
            }),
        })
        .collect()
}

/// A failure of an import's inbound stream: the client's fault if it sent
/// bytes that are not a message.
pub fn inbound(status: tonic::Status) -> Error {
    crate::edge::guard::client_fault(&status).unwrap_or_else(|| Error::Malformed {
        field: None,
        detail: status.message().to_owned(),
    })
}

/// An item's hold on the wire.
pub fn wire_hold(hold: Option<Hold>) -> Option<pb::Hold> {
    hold.map(|hold| pb::Hold {
        organization_id: hold.organization_id.to_string(),
        expire_time: timestamp(hold.expire_time),
    })
}

pub fn wire_change_type(change: ChangeType) -> i32 {
    match change {
        ChangeType::Created => pb::ChangeType::Created,
        ChangeType::Updated => pb::ChangeType::Updated,
        ChangeType::Deleted => pb::ChangeType::Deleted,
        ChangeType::Restored => pb::ChangeType::Restored,
        ChangeType::Assigned => pb::ChangeType::Assigned,
        ChangeType::Unassigned => pb::ChangeType::Unassigned,
        ChangeType::Held => pb::ChangeType::Held,
        ChangeType::HoldReleased => pb::ChangeType::HoldReleased,
        ChangeType::HoldExpired => pb::ChangeType::HoldExpired,
    }
    .into()
}

pub fn wire_event_type(event: EventType) -> i32 {
    match event {
        EventType::Added => pb::EventType::Added,
        EventType::Modified => pb::EventType::Modified,
        EventType::Removed => pb::EventType::Removed,
    }
    .into()
}

pub fn wire_status(status: Status) -> i32 {
    match status {
        Status::Active => pb::Status::Active,
        Status::Inactive => pb::Status::Inactive,
        Status::Reserved => pb::Status::Reserved,
    }
    .into()
}

pub fn timestamp(at: Timestamp) -> Option<prost_types::Timestamp> {
    let at = at.as_datetime();
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        // At most 999_999_000: always fits.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

pub fn optional_id(id: Option<impl std::fmt::Display>) -> Option<String> {
    id.map(|id| id.to_string())
}

/// Where a page stands, with the token of the next page (empty on the last).
pub fn pagination_meta(meta: PageMeta, next: Option<PageToken>) -> pb::PaginationMeta {
    let PageMeta {
        page,
        limit,
        total,
        total_pages,
        has_next_page,
        has_previous_page,
        revision,
    } = meta;
    pb::PaginationMeta {
        page,
        limit,
        total,
        total_pages,
        has_next_page,
        has_previous_page,
        next_page_token: next.map(|token| token.encode()).unwrap_or_default(),
        revision: revision.get(),
    }
}
