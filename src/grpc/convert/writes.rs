//! The requests of writes, from their fields: a create, an update, a write
//! on an item with its precondition, an assignment, a hold, an allocation,
//! an import batch.

use super::*;

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
