//! `numbering.v1.DidService`: DID messages in, the shared handlers, DID
//! messages out.

use super::convert::{self, ListFields, WireItem};
use super::handler::{Handlers, PageStream, RpcResult, Wire};
use crate::domain::{Did, ItemId, NewItem, SortField};
use crate::error::{Error, Result};
use crate::inventory::{Assignment, AvailableLookup, AvailableRequest, ListRequest, Update};
use crate::proto::v1::{self as pb, did_service_server::DidService};
use tonic::Request;

impl Wire for Did {
    type Message = pb::Did;
    type Available = pb::AvailableDid;
}

pub struct DidApi(Handlers<Did>);

impl DidApi {
    pub fn new(handlers: Handlers<Did>) -> Self {
        Self(handlers)
    }
}

#[tonic::async_trait]
impl DidService for DidApi {
    type ListDidsStream = PageStream<pb::ListDidsResponse>;
    type ListAvailableDidsStream = PageStream<pb::ListAvailableDidsResponse>;

    async fn create_did(
        &self,
        request: Request<pb::CreateDidRequest>,
    ) -> RpcResult<pb::CreateDidResponse> {
        self.0
            .create(request, |did| pb::CreateDidResponse { did: Some(did) })
            .await
    }

    async fn get_did(&self, request: Request<pb::GetDidRequest>) -> RpcResult<pb::GetDidResponse> {
        self.0
            .get(request, |did| pb::GetDidResponse { did: Some(did) })
            .await
    }

    async fn update_did(
        &self,
        request: Request<pb::UpdateDidRequest>,
    ) -> RpcResult<pb::UpdateDidResponse> {
        self.0
            .update(request, |did| pb::UpdateDidResponse { did: Some(did) })
            .await
    }

    async fn delete_did(
        &self,
        request: Request<pb::DeleteDidRequest>,
    ) -> RpcResult<pb::DeleteDidResponse> {
        self.0
            .delete(request, |did| pb::DeleteDidResponse { did: Some(did) })
            .await
    }

    async fn assign_did(
        &self,
        request: Request<pb::AssignDidRequest>,
    ) -> RpcResult<pb::AssignDidResponse> {
        self.0
            .assign(request, |did| pb::AssignDidResponse { did: Some(did) })
            .await
    }

    async fn unassign_did(
        &self,
        request: Request<pb::UnassignDidRequest>,
    ) -> RpcResult<pb::UnassignDidResponse> {
        self.0
            .unassign(request, |did| pb::UnassignDidResponse { did: Some(did) })
            .await
    }

    async fn list_dids(
        &self,
        request: Request<pb::ListDidsRequest>,
    ) -> RpcResult<Self::ListDidsStream> {
        self.0
            .list(request, |data, meta| pb::ListDidsResponse {
                data,
                meta: Some(meta),
            })
            .await
    }

    async fn list_available_dids(
        &self,
        request: Request<pb::ListAvailableDidsRequest>,
    ) -> RpcResult<Self::ListAvailableDidsStream> {
        self.0
            .list_available(request, |data, meta| pb::ListAvailableDidsResponse {
                data,
                meta: Some(meta),
            })
            .await
    }

    async fn get_available_did(
        &self,
        request: Request<pb::GetAvailableDidRequest>,
    ) -> RpcResult<pb::GetAvailableDidResponse> {
        self.0
            .get_available(request, |available_did| pb::GetAvailableDidResponse {
                available_did: Some(available_did),
            })
            .await
    }
}

impl From<WireItem> for pb::Did {
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
            number: value,
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

impl From<WireItem> for pb::AvailableDid {
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
            number: value,
            country,
            status,
            is_shared,
        }
    }
}

impl TryFrom<pb::CreateDidRequest> for NewItem<Did> {
    type Error = Error;
    fn try_from(request: pb::CreateDidRequest) -> Result<Self> {
        let pb::CreateDidRequest {
            number,
            country,
            description,
            status,
        } = request;
        convert::new_item(&number, &country, description.as_deref(), status)
    }
}

impl TryFrom<pb::GetDidRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::GetDidRequest) -> Result<Self> {
        convert::item_id(&request.id)
    }
}

impl TryFrom<pb::UpdateDidRequest> for Update<Did> {
    type Error = Error;
    fn try_from(request: pb::UpdateDidRequest) -> Result<Self> {
        let pb::UpdateDidRequest {
            id,
            number,
            country,
            description,
            status,
        } = request;
        Ok(Update {
            id: convert::item_id(&id)?,
            patch: convert::patch(
                number.as_deref(),
                country.as_deref(),
                description.as_deref(),
                status,
            )?,
        })
    }
}

impl TryFrom<pb::DeleteDidRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::DeleteDidRequest) -> Result<Self> {
        convert::item_id(&request.id)
    }
}

impl TryFrom<pb::AssignDidRequest> for Assignment {
    type Error = Error;
    fn try_from(request: pb::AssignDidRequest) -> Result<Self> {
        convert::assignment(&request.id, &request.organization_id)
    }
}

impl TryFrom<pb::UnassignDidRequest> for ItemId {
    type Error = Error;
    fn try_from(request: pb::UnassignDidRequest) -> Result<Self> {
        convert::item_id(&request.id)
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
            values: &numbers,
            show_deleted,
            all_pages,
        })
    }
}

fn sort_field(value: i32) -> Result<SortField> {
    match pb::DidSortField::try_from(value) {
        Ok(pb::DidSortField::Unspecified | pb::DidSortField::CreatedAt) => Ok(SortField::CreatedAt),
        Ok(pb::DidSortField::Number) => Ok(SortField::Value),
        Ok(pb::DidSortField::Country) => Ok(SortField::Country),
        Ok(pb::DidSortField::Status) => Ok(SortField::Status),
        Err(_) => Err(convert::unknown_enum("sort_by", value)),
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

impl TryFrom<pb::GetAvailableDidRequest> for AvailableLookup {
    type Error = Error;
    fn try_from(request: pb::GetAvailableDidRequest) -> Result<Self> {
        convert::available_lookup(&request.id, request.organization_id.as_deref())
    }
}
