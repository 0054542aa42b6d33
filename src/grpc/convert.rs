//! Wire ⇄ domain conversions shared by both services. The per-kind modules
//! destructure their proto messages (so a new field breaks the build until it
//! is handled) and hand the fields to these helpers.

use crate::domain::{
    CountryCode, Description, Identifier, Invalid, Item, ItemId, MAX_FILTER_VALUES, NewItem,
    OrganizationId, PageMeta, PageRequest, Patch, ResourceKind, SearchText, Sort, SortField,
    SortOrder, Status, Timestamp,
};
use crate::error::{Error, Result};
use crate::inventory::{AvailableLookup, AvailableRequest, ListRequest, Write};
use crate::proto::v1 as pb;
use crate::store::StoredKind;

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

pub fn create<K: StoredKind>(
    value: &str,
    country: &str,
    description: Option<&str>,
    initial_status: i32,
) -> Result<Write<K>> {
    Ok(Write::Create(NewItem {
        value: field(K::VALUE_FIELD, K::Value::parse(value))?,
        country: field("country", CountryCode::parse(country))?,
        description: match description {
            Some(text) => field("description", Description::parse(text))?,
            None => None,
        },
        status: status("status", initial_status)?.unwrap_or(Status::Active),
    }))
}

pub fn update<K: StoredKind>(
    id: &str,
    value: Option<&str>,
    country: Option<&str>,
    description: Option<&str>,
    new_status: Option<i32>,
) -> Result<Write<K>> {
    let id = item_id(id)?;
    let patch = Patch {
        value: value
            .map(|v| field(K::VALUE_FIELD, K::Value::parse(v)))
            .transpose()?,
        country: country
            .map(|c| field("country", CountryCode::parse(c)))
            .transpose()?,
        description: description
            .map(|d| field("description", Description::parse(d)))
            .transpose()?,
        status: new_status.map(|s| stated_status("status", s)).transpose()?,
    };
    Ok(Write::Update { id, patch })
}

pub fn assign<K: StoredKind>(id: &str, organization: &str) -> Result<Write<K>> {
    Ok(Write::Assign {
        id: item_id(id)?,
        organization_id: organization_id(organization)?,
    })
}

/// The fields of `List…` requests, the same for both kinds but for the
/// identifier filter and the sort enum.
pub struct ListFields<'a> {
    pub page: u32,
    pub limit: u32,
    pub search: &'a str,
    pub sort_by: SortField,
    pub sort_order: i32,
    pub status: Option<i32>,
    pub is_shared: Option<bool>,
    pub organization_id: Option<&'a str>,
    pub countries: &'a [String],
    pub values: &'a [String],
    pub show_deleted: bool,
    pub all_pages: bool,
}

pub fn list_request<K: StoredKind>(fields: ListFields<'_>) -> Result<ListRequest<K>> {
    Ok(ListRequest {
        status: fields
            .status
            .map(|s| stated_status("status", s))
            .transpose()?,
        shared: fields.is_shared,
        organization_id: optional_organization_id(fields.organization_id)?,
        countries: each("countries", fields.countries, CountryCode::parse)?,
        values: each(K::VALUES_FIELD, fields.values, K::Value::parse)?,
        search: search(fields.search)?,
        show_deleted: fields.show_deleted,
        sort: Sort {
            field: fields.sort_by,
            order: sort_order(fields.sort_order)?,
        },
        paging: paging(fields.page, fields.limit)?,
        all_pages: fields.all_pages,
    })
}

pub fn available_request(
    page: u32,
    limit: u32,
    search_text: &str,
    order: i32,
    organization: Option<&str>,
    all_pages: bool,
) -> Result<AvailableRequest> {
    Ok(AvailableRequest {
        organization_id: optional_organization_id(organization)?,
        search: search(search_text)?,
        order: sort_order(order)?,
        paging: paging(page, limit)?,
        all_pages,
    })
}

pub fn available_lookup(id: &str, organization: Option<&str>) -> Result<AvailableLookup> {
    Ok(AvailableLookup {
        id: item_id(id)?,
        organization_id: optional_organization_id(organization)?,
    })
}

/// An item's wire fields, before they are put in the kind's message. Staff
/// user ids are left out unless the caller is staff.
pub struct WireItem {
    pub id: String,
    pub value: String,
    pub country: String,
    pub description: Option<String>,
    pub is_shared: bool,
    pub organization_id: Option<String>,
    pub status: i32,
    pub created_at: Option<prost_types::Timestamp>,
    pub updated_at: Option<prost_types::Timestamp>,
    pub deleted_at: Option<prost_types::Timestamp>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub deleted_by: Option<String>,
}

impl WireItem {
    pub fn new<K: ResourceKind>(item: Item<K>, show_staff_ids: bool) -> Self {
        let staff = |id: Option<crate::domain::UserId>| {
            id.filter(|_| show_staff_ids).map(|u| u.to_string())
        };
        let is_shared = item.is_shared();
        Self {
            id: item.id.to_string(),
            value: item.value.as_str().to_owned(),
            country: item.country.as_str().to_owned(),
            description: item.description.map(|d| d.as_str().to_owned()),
            is_shared,
            organization_id: item.organization_id.map(|o| o.to_string()),
            status: wire_status(item.status),
            created_at: Some(timestamp(item.created_at)),
            updated_at: Some(timestamp(item.updated_at)),
            deleted_at: item.deleted_at.map(timestamp),
            created_by: staff(item.created_by),
            updated_by: staff(item.updated_by),
            deleted_by: staff(item.deleted_by),
        }
    }
}

pub fn wire_status(status: Status) -> i32 {
    match status {
        Status::Active => pb::Status::Active,
        Status::Inactive => pb::Status::Inactive,
        Status::Reserved => pb::Status::Reserved,
    }
    .into()
}

fn timestamp(at: Timestamp) -> prost_types::Timestamp {
    let at = at.as_datetime();
    prost_types::Timestamp {
        seconds: at.timestamp(),
        // At most 999_999_000: always fits.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

impl From<PageMeta> for pb::PaginationMeta {
    fn from(meta: PageMeta) -> Self {
        let PageMeta {
            page,
            limit,
            total,
            total_pages,
            has_next_page,
            has_previous_page,
        } = meta;
        Self {
            page,
            limit,
            total,
            total_pages,
            has_next_page,
            has_previous_page,
        }
    }
}
