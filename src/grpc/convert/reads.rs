//! The requests of reads, from their fields: lists, the available view,
//! history and watches.

use super::*;

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
