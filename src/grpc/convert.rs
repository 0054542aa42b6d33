//! Wire ⇄ domain conversions shared by both services: plain functions over
//! the fields the per-kind modules destructure from their messages.

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

/// The fields of `Create…` requests; `value` is the number or sender id.
pub struct CreateFields {
    pub value: String,
    pub country: String,
    pub description: Option<String>,
    pub status: i32,
}

pub fn new_item<K: ResourceKind>(fields: CreateFields) -> Result<NewItem<K>> {
    let CreateFields {
        value,
        country,
        description,
        status: initial_status,
    } = fields;
    let (value, country, description, status) = (
        field(K::VALUE_FIELD, K::Value::parse(&value)),
        field("country", CountryCode::parse(&country)),
        description
            .map(|text| field("description", Description::parse(&text)))
            .transpose()
            .map(Option::flatten),
        status("status", initial_status),
    )
        .all_valid()?;
    Ok(NewItem {
        value,
        country,
        description,
        status: status.unwrap_or(Status::Active),
    })
}

/// A `Create…` request: its fields and its `request_id`.
pub fn create_request<K: ResourceKind>(
    fields: CreateFields,
    request: Result<Option<RequestKey>>,
) -> Result<CreateRequest<K>> {
    let (new, request) = (new_item(fields), request).all_valid()?;
    Ok(CreateRequest { new, request })
}

/// The fields of `Update…` requests: `None` leaves a field as it is.
pub struct UpdateFields {
    pub id: String,
    pub value: Option<String>,
    pub country: Option<String>,
    pub description: Option<String>,
    pub status: Option<i32>,
}

/// A write's `request_id`: `method` and the encoded request make its
/// fingerprint, so that a retry must be the same request.
pub fn request_key(request_id: &str, method: &str, encoded: &[u8]) -> Result<Option<RequestKey>> {
    field("request_id", RequestKey::parse(request_id, method, encoded))
}

/// The `etag` and `request_id` of a write on an existing item.
pub fn precondition(
    etag: &str,
    request_id: &str,
    method: &str,
    encoded: &[u8],
) -> Result<Precondition> {
    Ok(Precondition {
        etag: Etag::parse(etag),
        request: request_key(request_id, method, encoded)?,
    })
}

/// `Delete…` and `Unassign…`.
pub fn item_write(
    id: &str,
    etag: &str,
    request_id: &str,
    method: &str,
    encoded: &[u8],
) -> Result<ItemWrite> {
    let (id, precondition) =
        (item_id(id), precondition(etag, request_id, method, encoded)).all_valid()?;
    Ok(ItemWrite { id, precondition })
}

pub fn item_update<K: ResourceKind>(
    fields: UpdateFields,
    precondition: Result<Precondition>,
) -> Result<ItemUpdate<K>> {
    let UpdateFields {
        id,
        value,
        country,
        description,
        status: new_status,
    } = fields;
    let (id, value, country, description, status, precondition) = (
        item_id(&id),
        value
            .map(|v| field(K::VALUE_FIELD, K::Value::parse(&v)))
            .transpose(),
        country
            .map(|c| field("country", CountryCode::parse(&c)))
            .transpose(),
        description
            .map(|d| field("description", Description::parse(&d)))
            .transpose(),
        new_status.map(|s| stated_status("status", s)).transpose(),
        precondition,
    )
        .all_valid()?;
    Ok(ItemUpdate {
        id,
        patch: Patch {
            value,
            country,
            description,
            status,
        },
        precondition,
    })
}

pub fn assignment(
    id: &str,
    organization: &str,
    precondition: Result<Precondition>,
) -> Result<AssignmentRequest> {
    let (id, organization_id, precondition) =
        (item_id(id), organization_id(organization), precondition).all_valid()?;
    Ok(AssignmentRequest {
        id,
        organization_id,
        precondition,
    })
}

/// A hold's `ttl`: unset is the default; a negative or out-of-range one is
/// refused by name.
fn hold_ttl(ttl: Option<prost_types::Duration>) -> Result<HoldTtl> {
    let ttl = ttl
        .map(|ttl| {
            // A Duration's nanos are below a second (protobuf's own rule),
            // which prost's conversion would otherwise carry into seconds.
            if !(0..1_000_000_000).contains(&ttl.nanos) {
                return Err(Error::invalid(
                    "ttl.nanos",
                    Invalid::new("must be from 0 to 999999999"),
                ));
            }
            std::time::Duration::try_from(ttl)
                .map_err(|_| Error::invalid("ttl", Invalid::new("must be from 1s to 24h")))
        })
        .transpose()?;
    field("ttl", HoldTtl::parse(ttl))
}

pub fn hold_request(
    id: &str,
    organization: &str,
    ttl: Option<prost_types::Duration>,
    precondition: Result<Precondition>,
) -> Result<HoldRequest> {
    let (id, organization_id, ttl, precondition) = (
        item_id(id),
        organization_id(organization),
        hold_ttl(ttl),
        precondition,
    )
        .all_valid()?;
    Ok(HoldRequest {
        id,
        organization_id,
        ttl,
        precondition,
    })
}

/// The fields of `AllocateDids`.
pub struct AllocationFields {
    pub organization_id: String,
    pub count: u32,
    pub country: Option<String>,
    pub number_prefix: Option<String>,
    pub hold: bool,
    pub ttl: Option<prost_types::Duration>,
    pub request: Result<Option<RequestKey>>,
}

/// Most items one allocation takes.
const MAX_ALLOCATION: u32 = 1000;

pub fn allocation_request(fields: AllocationFields) -> Result<AllocationRequest> {
    let AllocationFields {
        organization_id: organization,
        count,
        country,
        number_prefix,
        hold,
        ttl,
        request,
    } = fields;
    let count = match (1..=MAX_ALLOCATION).contains(&count) {
        true => Ok(count),
        false => Err(Error::invalid(
            "count",
            Invalid::new(format!("must be from 1 to {MAX_ALLOCATION}")),
        )),
    };
    let hold = match (hold, ttl) {
        (true, ttl) => hold_ttl(ttl).map(Some),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(Error::invalid(
            "ttl",
            Invalid::new("is for holds: set hold"),
        )),
    };
    let (organization_id, count, country, prefix, hold, request) = (
        organization_id(&organization),
        count,
        country
            .map(|c| field("country", CountryCode::parse(&c)))
            .transpose(),
        number_prefix
            .map(|prefix| field("number_prefix", NumberPrefix::parse(&prefix)))
            .transpose()
            .map(Option::flatten),
        hold,
        request,
    )
        .all_valid()?;
    Ok(AllocationRequest {
        organization_id,
        count,
        country,
        prefix,
        hold,
        request,
    })
}

/// One message of an import: at most `MAX_IMPORT_ROWS` rows, each parsed
/// as its own Create call would be (its `request_id` with it).
pub fn import_batch<K: ResourceKind, Row>(rows: Vec<Row>, atomic: bool) -> Result<ImportBatch<K>>
where
    Row: TryInto<CreateRequest<K>, Error = Error>,
{
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(Error::invalid(
            "rows",
            Invalid::new(format!("at most {MAX_IMPORT_ROWS} per message")),
        ));
    }
    Ok(ImportBatch {
        rows: rows.into_iter().map(TryInto::try_into).collect(),
        atomic,
    })
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

pub fn history_request(id: &str, page: u32, limit: u32, all_pages: bool) -> Result<HistoryRequest> {
    let (id, paging) = (item_id(id), paging(page, limit)).all_valid()?;
    Ok(HistoryRequest {
        id,
        paging,
        all_pages,
    })
}

/// `Get…AsOf`: the identifier, the country for Sender IDs, and the time,
/// which must be set.
pub fn as_of_request<K: ResourceKind>(
    value: &str,
    country: Option<&str>,
    time: Option<prost_types::Timestamp>,
) -> Result<AsOfRequest<K>> {
    let time = time
        .ok_or_else(|| Error::invalid("time", Invalid::new("must be set")))
        .and_then(|time| {
            chrono::DateTime::from_timestamp(
                time.seconds,
                u32::try_from(time.nanos).unwrap_or(u32::MAX),
            )
            .ok_or_else(|| Error::invalid("time", Invalid::new("must be a valid timestamp")))
        });
    let (value, country, at) = (
        field(K::VALUE_FIELD, K::Value::parse(value)),
        country
            .map(|c| field("country", CountryCode::parse(c)))
            .transpose(),
        time,
    )
        .all_valid()?;
    Ok(AsOfRequest {
        value,
        country,
        at: Timestamp::from(at),
    })
}

pub fn watch_request(
    start_revision: i64,
    send_initial_state: bool,
    organization: Option<&str>,
    countries: &[String],
) -> Result<WatchRequest> {
    let (start, organization_id, countries) = (
        field("start_revision", Revision::parse(start_revision)),
        optional_organization_id(organization),
        each("countries", countries, CountryCode::parse),
    )
        .all_valid()?;
    Ok(WatchRequest {
        start: (start != Revision::ZERO).then_some(start),
        initial_state: send_initial_state,
        organization_id,
        countries,
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

/// The fields of `List…` requests, the same for both kinds but for the
/// identifier filter and the sort enum.
pub struct ListFields {
    pub page: u32,
    pub limit: u32,
    pub search: String,
    pub sort_by: SortField,
    pub sort_order: i32,
    pub status: Option<i32>,
    pub is_shared: Option<bool>,
    pub organization_id: Option<String>,
    pub countries: Vec<String>,
    pub values: Vec<String>,
    pub show_deleted: bool,
    pub all_pages: bool,
    pub page_token: String,
}

pub fn list_request<K: ResourceKind>(fields: ListFields) -> Result<ListRequest<K>> {
    let ListFields {
        page,
        limit,
        search: search_text,
        sort_by,
        sort_order: order,
        status: wanted_status,
        is_shared,
        organization_id,
        countries,
        values,
        show_deleted,
        all_pages,
        page_token: token,
    } = fields;
    let (status, organization_id, countries, values, search, order, paging, page_token) = (
        wanted_status
            .map(|s| stated_status("status", s))
            .transpose(),
        optional_organization_id(organization_id.as_deref()),
        each("countries", &countries, CountryCode::parse),
        each(K::VALUES_FIELD, &values, K::Value::parse),
        search(&search_text),
        sort_order(order),
        paging(page, limit),
        page_token(&token),
    )
        .all_valid()?;
    Ok(ListRequest {
        status,
        shared: is_shared,
        organization_id,
        countries,
        values,
        search,
        show_deleted,
        sort: Sort {
            field: sort_by,
            order,
        },
        paging,
        page_token,
        all_pages,
    })
}

/// The fields of `ListAvailable…` requests, the same for both kinds.
pub struct AvailableFields {
    pub page: u32,
    pub limit: u32,
    pub search: String,
    pub sort_order: i32,
    pub organization_id: Option<String>,
    pub all_pages: bool,
    pub page_token: String,
}

pub fn available_request(fields: AvailableFields) -> Result<AvailableRequest> {
    let AvailableFields {
        page,
        limit,
        search: search_text,
        sort_order: order,
        organization_id,
        all_pages,
        page_token: token,
    } = fields;
    let (organization_id, search, order, paging, page_token) = (
        optional_organization_id(organization_id.as_deref()),
        search(&search_text),
        sort_order(order),
        paging(page, limit),
        page_token(&token),
    )
        .all_valid()?;
    Ok(AvailableRequest {
        organization_id,
        search,
        order,
        paging,
        page_token,
        all_pages,
    })
}

pub fn available_lookup(id: &str, organization: Option<&str>) -> Result<AvailableLookup> {
    let (id, organization_id) =
        (item_id(id), optional_organization_id(organization)).all_valid()?;
    Ok(AvailableLookup {
        id,
        organization_id,
    })
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
