//! DID requests from the wire: every message destructured field by
//! field, so that a field added to the proto breaks the build until it is
//! handled here.

use crate::domain::{Did, ItemId, SortField};
use crate::error::{Error, Result};
use crate::grpc::convert::{
    self, AllocationFields, AvailableFields, CreateFields, ListFields, UpdateFields,
};
use crate::proto::v1 as pb;
use crate::service::{
    AllocationRequest, AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest,
    CreateRequest, HistoryRequest, HoldRequest, ImportBatch, ItemUpdate, ItemWrite, ListRequest,
    WatchRequest,
};
use prost::Message;

impl TryFrom<pb::CreateDidRequest> for CreateRequest<Did> {
    type Error = Error;
    fn try_from(request: pb::CreateDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::CreateDidRequest {
            number,
            country,
            description,
            status,
            request_id,
        } = request;
        convert::create_request(
            CreateFields {
                value: number,
                country,
                description,
                status,
            },
            convert::request_key(&request_id, "CreateDid", &encoded),
        )
    }
}

impl TryFrom<pb::GetDidRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::GetDidRequest) -> Result<Self> {
        let pb::GetDidRequest { id } = request;
        convert::item_id(&id)
    }
}

impl TryFrom<pb::UpdateDidRequest> for ItemUpdate<Did> {
    type Error = Error;
    fn try_from(request: pb::UpdateDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UpdateDidRequest {
            id,
            number,
            country,
            description,
            status,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "UpdateDid", &encoded);
        convert::item_update(
            UpdateFields {
                id,
                value: number,
                country,
                description,
                status,
            },
            precondition,
        )
    }
}

impl TryFrom<pb::DeleteDidRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::DeleteDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::DeleteDidRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "DeleteDid", &encoded)
    }
}

impl TryFrom<pb::AssignDidRequest> for AssignmentRequest {
    type Error = Error;
    fn try_from(request: pb::AssignDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::AssignDidRequest {
            id,
            organization_id,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "AssignDid", &encoded);
        convert::assignment(&id, &organization_id, precondition)
    }
}

impl TryFrom<pb::UnassignDidRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::UnassignDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UnassignDidRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "UnassignDid", &encoded)
    }
}

impl TryFrom<pb::ListDidsRequest> for ListRequest<Did> {
    type Error = Error;
    fn try_from(request: pb::ListDidsRequest) -> Result<Self> {
        let pb::ListDidsRequest {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            numbers,
            show_deleted,
            all_pages,
            page_token,
        } = request;
        let sort_by = match pb::DidSortField::try_from(sort_by) {
            Ok(pb::DidSortField::Unspecified | pb::DidSortField::CreatedAt) => SortField::CreatedAt,
            Ok(pb::DidSortField::Number) => SortField::Value,
            Ok(pb::DidSortField::Country) => SortField::Country,
            Ok(pb::DidSortField::Status) => SortField::Status,
            Err(_) => return Err(convert::unknown_enum("sort_by", sort_by)),
        };
        convert::list_request(ListFields {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            values: numbers,
            show_deleted,
            all_pages,
            page_token,
        })
    }
}

impl TryFrom<pb::ListAvailableDidsRequest> for AvailableRequest {
    type Error = Error;
    fn try_from(request: pb::ListAvailableDidsRequest) -> Result<Self> {
        let pb::ListAvailableDidsRequest {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
            page_token,
        } = request;
        convert::available_request(AvailableFields {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
            page_token,
        })
    }
}

impl TryFrom<pb::GetAvailableDidRequest> for AvailableLookup {
    type Error = Error;
    fn try_from(request: pb::GetAvailableDidRequest) -> Result<Self> {
        let pb::GetAvailableDidRequest {
            id,
            organization_id,
        } = request;
        convert::available_lookup(&id, organization_id.as_deref())
    }
}

impl TryFrom<pb::ListDidHistoryRequest> for HistoryRequest {
    type Error = Error;
    fn try_from(request: pb::ListDidHistoryRequest) -> Result<Self> {
        let pb::ListDidHistoryRequest {
            id,
            page,
            limit,
            all_pages,
        } = request;
        convert::history_request(&id, page, limit, all_pages)
    }
}

impl TryFrom<pb::GetDidAsOfRequest> for AsOfRequest<Did> {
    type Error = Error;
    fn try_from(request: pb::GetDidAsOfRequest) -> Result<Self> {
        let pb::GetDidAsOfRequest { number, time } = request;
        convert::as_of_request(&number, None, time)
    }
}

impl TryFrom<pb::WatchDidsRequest> for WatchRequest {
    type Error = Error;
    fn try_from(request: pb::WatchDidsRequest) -> Result<Self> {
        let pb::WatchDidsRequest {
            start_revision,
            send_initial_state,
            organization_id,
            countries,
        } = request;
        convert::watch_request(
            start_revision,
            send_initial_state,
            organization_id.as_deref(),
            &countries,
        )
    }
}

impl TryFrom<pb::HoldDidRequest> for HoldRequest {
    type Error = Error;
    fn try_from(request: pb::HoldDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::HoldDidRequest {
            id,
            organization_id,
            ttl,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "HoldDid", &encoded);
        convert::hold_request(&id, &organization_id, ttl, precondition)
    }
}

impl TryFrom<pb::ReleaseDidHoldRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::ReleaseDidHoldRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::ReleaseDidHoldRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "ReleaseDidHold", &encoded)
    }
}

impl TryFrom<pb::UndeleteDidRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::UndeleteDidRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UndeleteDidRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "UndeleteDid", &encoded)
    }
}

impl TryFrom<pb::AllocateDidsRequest> for AllocationRequest {
    type Error = Error;
    fn try_from(request: pb::AllocateDidsRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::AllocateDidsRequest {
            organization_id,
            count,
            country,
            number_prefix,
            hold,
            ttl,
            request_id,
        } = request;
        convert::allocation_request(AllocationFields {
            organization_id,
            count,
            country,
            number_prefix,
            hold,
            ttl,
            request: convert::request_key(&request_id, "AllocateDids", &encoded),
        })
    }
}

impl TryFrom<pb::ImportDidsRequest> for ImportBatch<Did> {
    type Error = Error;
    fn try_from(request: pb::ImportDidsRequest) -> Result<Self> {
        let pb::ImportDidsRequest { rows, atomic } = request;
        convert::import_batch(rows, atomic)
    }
}
