//! Sender ID requests from the wire: every message destructured field by
//! field, so that a field added to the proto breaks the build until it is
//! handled here.

use crate::domain::{ItemId, SenderId, SortField};
use crate::error::{Error, Result};
use crate::grpc::convert::{self, AvailableFields, CreateFields, ListFields, UpdateFields};
use crate::proto::v1 as pb;
use crate::service::{
    AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest, CreateRequest,
    HistoryRequest, HoldRequest, ImportBatch, ItemUpdate, ItemWrite, ListRequest, WatchRequest,
};
use prost::Message;

impl TryFrom<pb::CreateSenderIdRequest> for CreateRequest<SenderId> {
    type Error = Error;
    fn try_from(request: pb::CreateSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::CreateSenderIdRequest {
            sender_id,
            country,
            description,
            status,
            request_id,
        } = request;
        convert::create_request(
            CreateFields {
                value: sender_id,
                country,
                description,
                status,
            },
            convert::request_key(&request_id, "CreateSenderId", &encoded),
        )
    }
}

impl TryFrom<pb::GetSenderIdRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::GetSenderIdRequest) -> Result<Self> {
        let pb::GetSenderIdRequest { id } = request;
        convert::item_id(&id)
    }
}

impl TryFrom<pb::UpdateSenderIdRequest> for ItemUpdate<SenderId> {
    type Error = Error;
    fn try_from(request: pb::UpdateSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UpdateSenderIdRequest {
            id,
            sender_id,
            country,
            description,
            status,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "UpdateSenderId", &encoded);
        convert::item_update(
            UpdateFields {
                id,
                value: sender_id,
                country,
                description,
                status,
            },
            precondition,
        )
    }
}

impl TryFrom<pb::DeleteSenderIdRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::DeleteSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::DeleteSenderIdRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "DeleteSenderId", &encoded)
    }
}

impl TryFrom<pb::AssignSenderIdRequest> for AssignmentRequest {
    type Error = Error;
    fn try_from(request: pb::AssignSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::AssignSenderIdRequest {
            id,
            organization_id,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "AssignSenderId", &encoded);
        convert::assignment(&id, &organization_id, precondition)
    }
}

impl TryFrom<pb::UnassignSenderIdRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::UnassignSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UnassignSenderIdRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "UnassignSenderId", &encoded)
    }
}

impl TryFrom<pb::ListSenderIdsRequest> for ListRequest<SenderId> {
    type Error = Error;
    fn try_from(request: pb::ListSenderIdsRequest) -> Result<Self> {
        let pb::ListSenderIdsRequest {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            sender_ids,
            show_deleted,
            all_pages,
            page_token,
        } = request;
        let sort_by = match pb::SenderIdSortField::try_from(sort_by) {
            Ok(pb::SenderIdSortField::Unspecified | pb::SenderIdSortField::CreatedAt) => {
                SortField::CreatedAt
            }
            Ok(pb::SenderIdSortField::SenderId) => SortField::Value,
            Ok(pb::SenderIdSortField::Country) => SortField::Country,
            Ok(pb::SenderIdSortField::Status) => SortField::Status,
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
            values: sender_ids,
            show_deleted,
            all_pages,
            page_token,
        })
    }
}

impl TryFrom<pb::ListAvailableSenderIdsRequest> for AvailableRequest {
    type Error = Error;
    fn try_from(request: pb::ListAvailableSenderIdsRequest) -> Result<Self> {
        let pb::ListAvailableSenderIdsRequest {
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

impl TryFrom<pb::GetAvailableSenderIdRequest> for AvailableLookup {
    type Error = Error;
    fn try_from(request: pb::GetAvailableSenderIdRequest) -> Result<Self> {
        let pb::GetAvailableSenderIdRequest {
            id,
            organization_id,
        } = request;
        convert::available_lookup(&id, organization_id.as_deref())
    }
}

impl TryFrom<pb::ListSenderIdHistoryRequest> for HistoryRequest {
    type Error = Error;
    fn try_from(request: pb::ListSenderIdHistoryRequest) -> Result<Self> {
        let pb::ListSenderIdHistoryRequest {
            id,
            page,
            limit,
            all_pages,
        } = request;
        convert::history_request(&id, page, limit, all_pages)
    }
}

impl TryFrom<pb::GetSenderIdAsOfRequest> for AsOfRequest<SenderId> {
    type Error = Error;
    fn try_from(request: pb::GetSenderIdAsOfRequest) -> Result<Self> {
        let pb::GetSenderIdAsOfRequest {
            sender_id,
            country,
            time,
        } = request;
        convert::as_of_request(&sender_id, Some(&country), time)
    }
}

impl TryFrom<pb::WatchSenderIdsRequest> for WatchRequest {
    type Error = Error;
    fn try_from(request: pb::WatchSenderIdsRequest) -> Result<Self> {
        let pb::WatchSenderIdsRequest {
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

impl TryFrom<pb::HoldSenderIdRequest> for HoldRequest {
    type Error = Error;
    fn try_from(request: pb::HoldSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::HoldSenderIdRequest {
            id,
            organization_id,
            ttl,
            etag,
            request_id,
        } = request;
        let precondition = convert::precondition(&etag, &request_id, "HoldSenderId", &encoded);
        convert::hold_request(&id, &organization_id, ttl, precondition)
    }
}

impl TryFrom<pb::ReleaseSenderIdHoldRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::ReleaseSenderIdHoldRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::ReleaseSenderIdHoldRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "ReleaseSenderIdHold", &encoded)
    }
}

impl TryFrom<pb::UndeleteSenderIdRequest> for ItemWrite {
    type Error = Error;
    fn try_from(request: pb::UndeleteSenderIdRequest) -> Result<Self> {
        let encoded = request.encode_to_vec();
        let pb::UndeleteSenderIdRequest {
            id,
            etag,
            request_id,
        } = request;
        convert::item_write(&id, &etag, &request_id, "UndeleteSenderId", &encoded)
    }
}

impl TryFrom<pb::ImportSenderIdsRequest> for ImportBatch<SenderId> {
    type Error = Error;
    fn try_from(request: pb::ImportSenderIdsRequest) -> Result<Self> {
        let pb::ImportSenderIdsRequest { rows, atomic } = request;
        convert::import_batch(rows, atomic)
    }
}
