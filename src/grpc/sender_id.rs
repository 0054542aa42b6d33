//! `numbering.v1.SenderIdService`: Sender ID messages in, the shared
//! handlers, Sender ID messages out.

use super::convert::{self, ListFields, WireItem};
use super::handler::{Handlers, PageStream, RpcResult, Wire};
use crate::domain::{ItemId, NewItem, SenderId, SortField};
use crate::error::{Error, Result};
use crate::inventory::{Assignment, AvailableLookup, AvailableRequest, ListRequest, Update};
use crate::proto::v1::{self as pb, sender_id_service_server::SenderIdService};
use tonic::Request;

impl Wire for SenderId {
    type Message = pb::SenderId;
    type Available = pb::AvailableSenderId;
}

pub struct SenderIdApi(Handlers<SenderId>);

impl SenderIdApi {
    pub fn new(handlers: Handlers<SenderId>) -> Self {
        Self(handlers)
    }
}

#[tonic::async_trait]
impl SenderIdService for SenderIdApi {
    type ListSenderIdsStream = PageStream<pb::ListSenderIdsResponse>;
    type ListAvailableSenderIdsStream = PageStream<pb::ListAvailableSenderIdsResponse>;

    async fn create_sender_id(
        &self,
        request: Request<pb::CreateSenderIdRequest>,
    ) -> RpcResult<pb::CreateSenderIdResponse> {
        self.0
            .create(request, |sender_id| pb::CreateSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn get_sender_id(
        &self,
        request: Request<pb::GetSenderIdRequest>,
    ) -> RpcResult<pb::GetSenderIdResponse> {
        self.0
            .get(request, |sender_id| pb::GetSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn update_sender_id(
        &self,
        request: Request<pb::UpdateSenderIdRequest>,
    ) -> RpcResult<pb::UpdateSenderIdResponse> {
        self.0
            .update(request, |sender_id| pb::UpdateSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn delete_sender_id(
        &self,
        request: Request<pb::DeleteSenderIdRequest>,
    ) -> RpcResult<pb::DeleteSenderIdResponse> {
        self.0
            .delete(request, |sender_id| pb::DeleteSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn assign_sender_id(
        &self,
        request: Request<pb::AssignSenderIdRequest>,
    ) -> RpcResult<pb::AssignSenderIdResponse> {
        self.0
            .assign(request, |sender_id| pb::AssignSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn unassign_sender_id(
        &self,
        request: Request<pb::UnassignSenderIdRequest>,
    ) -> RpcResult<pb::UnassignSenderIdResponse> {
        self.0
            .unassign(request, |sender_id| pb::UnassignSenderIdResponse {
                sender_id: Some(sender_id),
            })
            .await
    }

    async fn list_sender_ids(
        &self,
        request: Request<pb::ListSenderIdsRequest>,
    ) -> RpcResult<Self::ListSenderIdsStream> {
        self.0
            .list(request, |data, meta| pb::ListSenderIdsResponse {
                data,
                meta: Some(meta),
            })
            .await
    }

    async fn list_available_sender_ids(
        &self,
        request: Request<pb::ListAvailableSenderIdsRequest>,
    ) -> RpcResult<Self::ListAvailableSenderIdsStream> {
        self.0
            .list_available(request, |data, meta| pb::ListAvailableSenderIdsResponse {
                data,
                meta: Some(meta),
            })
            .await
    }

    async fn get_available_sender_id(
        &self,
        request: Request<pb::GetAvailableSenderIdRequest>,
    ) -> RpcResult<pb::GetAvailableSenderIdResponse> {
        self.0
            .get_available(request, |available_sender_id| {
                pb::GetAvailableSenderIdResponse {
                    available_sender_id: Some(available_sender_id),
                }
            })
            .await
    }
}

impl From<WireItem> for pb::SenderId {
    fn from(item: WireItem) -> Self {
        let WireItem {
            id,
            value,
            country,
            description,
            is_shared,
            organization_id,
            status,
            created_at,
            updated_at,
            deleted_at,
            created_by,
            updated_by,
            deleted_by,
        } = item;
        Self {
            id,
            sender_id: value,
            country,
            description,
            is_shared,
            organization_id,
            status,
            created_at,
            updated_at,
            deleted_at,
            created_by,
            updated_by,
            deleted_by,
        }
    }
}

impl From<WireItem> for pb::AvailableSenderId {
    fn from(item: WireItem) -> Self {
        let WireItem {
            id,
            value,
            country,
            status,
            is_shared,
            ..
        } = item;
        Self {
            id,
            sender_id: value,
            country,
            status,
            is_shared,
        }
    }
}

impl TryFrom<pb::CreateSenderIdRequest> for NewItem<SenderId> {
    type Error = Error;
    fn try_from(request: pb::CreateSenderIdRequest) -> Result<Self> {
        let pb::CreateSenderIdRequest {
            sender_id,
            country,
            description,
            status,
        } = request;
        convert::new_item(&sender_id, &country, description.as_deref(), status)
    }
}

impl TryFrom<pb::GetSenderIdRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::GetSenderIdRequest) -> Result<Self> {
        convert::item_id(&request.id)
    }
}

impl TryFrom<pb::UpdateSenderIdRequest> for Update<SenderId> {
    type Error = Error;
    fn try_from(request: pb::UpdateSenderIdRequest) -> Result<Self> {
        let pb::UpdateSenderIdRequest {
            id,
            sender_id,
            country,
            description,
            status,
        } = request;
        Ok(Update {
            id: convert::item_id(&id)?,
            patch: convert::patch(
                sender_id.as_deref(),
                country.as_deref(),
                description.as_deref(),
                status,
            )?,
        })
    }
}

impl TryFrom<pb::DeleteSenderIdRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::DeleteSenderIdRequest) -> Result<Self> {
        convert::item_id(&request.id)
    }
}

impl TryFrom<pb::AssignSenderIdRequest> for Assignment {
    type Error = Error;
    fn try_from(request: pb::AssignSenderIdRequest) -> Result<Self> {
        convert::assignment(&request.id, &request.organization_id)
    }
}

impl TryFrom<pb::UnassignSenderIdRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::UnassignSenderIdRequest) -> Result<Self> {
        convert::item_id(&request.id)
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
        } = request;
        convert::list_request(ListFields {
            page,
            limit,
            search: &search,
            sort_by: sort_field(sort_by)?,
            sort_order,
            status,
            is_shared,
            organization_id: organization_id.as_deref(),
            countries: &countries,
            values: &sender_ids,
            show_deleted,
            all_pages,
        })
    }
}

fn sort_field(value: i32) -> Result<SortField> {
    match pb::SenderIdSortField::try_from(value) {
        Ok(pb::SenderIdSortField::Unspecified | pb::SenderIdSortField::CreatedAt) => {
            Ok(SortField::CreatedAt)
        }
        Ok(pb::SenderIdSortField::SenderId) => Ok(SortField::Value),
        Ok(pb::SenderIdSortField::Country) => Ok(SortField::Country),
        Ok(pb::SenderIdSortField::Status) => Ok(SortField::Status),
        Err(_) => Err(convert::unknown_enum("sort_by", value)),
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
        } = request;
        convert::available_request(
            page,
            limit,
            &search,
            sort_order,
            organization_id.as_deref(),
            all_pages,
        )
    }
}

impl TryFrom<pb::GetAvailableSenderIdRequest> for AvailableLookup {
    type Error = Error;
    fn try_from(request: pb::GetAvailableSenderIdRequest) -> Result<Self> {
        convert::available_lookup(&request.id, request.organization_id.as_deref())
    }
}
