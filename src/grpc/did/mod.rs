//! `numbering.v1.DidService`: each RPC takes the caller the edge guard put in
//! the request, hands the message to the service (which parses it once the
//! caller may make the request), and converts the answer. The conversions
//! are in `requests.rs` and `messages.rs` beside this file.

mod messages;
mod requests;

use super::adapter::{
    PageStream, RpcResult, history_stream, import_stream, page_stream, parts, watch_stream,
};
use super::api::Api;
use super::convert::inbound;
use super::deadline::deadline;
use crate::domain::{Did, ResourceKind};
use crate::proto::v1 as pb;
use futures::StreamExt;
use tonic::codec::CompressionEncoding::Gzip;
use tonic::{Request, Response, Streaming};

/// The DID service.
pub type DidApi = Api<Did>;

impl Api<Did> {
    /// The server to register, under the generated service's name: gzip
    /// requests accepted, responses gzipped when asked.
    pub fn into_server(self) -> pb::did_service_server::DidServiceServer<Self> {
        pb::did_service_server::DidServiceServer::new(self)
            .accept_compressed(Gzip)
            .send_compressed(Gzip)
    }
}

#[tonic::async_trait]
impl pb::did_service_server::DidService for Api<Did> {
    type ListDidsStream = PageStream<pb::ListDidsResponse>;
    type ListAvailableDidsStream = PageStream<pb::ListAvailableDidsResponse>;
    type ListDidHistoryStream = PageStream<pb::ListDidHistoryResponse>;
    type WatchDidsStream = PageStream<pb::WatchDidsResponse>;
    type ImportDidsStream = PageStream<pb::ImportDidsResponse>;

    async fn create_did(
        &self,
        request: Request<pb::CreateDidRequest>,
    ) -> RpcResult<pb::CreateDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.create(&caller, message).await?;
        Ok(Response::new(pb::CreateDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn get_did(&self, request: Request<pb::GetDidRequest>) -> RpcResult<pb::GetDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.get(&caller, message).await?;
        Ok(Response::new(pb::GetDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn update_did(
        &self,
        request: Request<pb::UpdateDidRequest>,
    ) -> RpcResult<pb::UpdateDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.update(&caller, message).await?;
        Ok(Response::new(pb::UpdateDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn delete_did(
        &self,
        request: Request<pb::DeleteDidRequest>,
    ) -> RpcResult<pb::DeleteDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.delete(&caller, message).await?;
        Ok(Response::new(pb::DeleteDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn assign_did(
        &self,
        request: Request<pb::AssignDidRequest>,
    ) -> RpcResult<pb::AssignDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.assign(&caller, message).await?;
        Ok(Response::new(pb::AssignDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn unassign_did(
        &self,
        request: Request<pb::UnassignDidRequest>,
    ) -> RpcResult<pb::UnassignDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.unassign(&caller, message).await?;
        Ok(Response::new(pb::UnassignDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn hold_did(
        &self,
        request: Request<pb::HoldDidRequest>,
    ) -> RpcResult<pb::HoldDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.hold(&caller, message).await?;
        Ok(Response::new(pb::HoldDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn release_did_hold(
        &self,
        request: Request<pb::ReleaseDidHoldRequest>,
    ) -> RpcResult<pb::ReleaseDidHoldResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.release_hold(&caller, message).await?;
        Ok(Response::new(pb::ReleaseDidHoldResponse {
            did: Some(did.into()),
        }))
    }

    async fn undelete_did(
        &self,
        request: Request<pb::UndeleteDidRequest>,
    ) -> RpcResult<pb::UndeleteDidResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.undelete(&caller, message).await?;
        Ok(Response::new(pb::UndeleteDidResponse {
            did: Some(did.into()),
        }))
    }

    async fn get_did_as_of(
        &self,
        request: Request<pb::GetDidAsOfRequest>,
    ) -> RpcResult<pb::GetDidAsOfResponse> {
        let (caller, message) = parts(request)?;
        let did = self.service.as_of(&caller, message).await?;
        Ok(Response::new(pb::GetDidAsOfResponse {
            did: Some(did.into()),
        }))
    }

    async fn get_available_did(
        &self,
        request: Request<pb::GetAvailableDidRequest>,
    ) -> RpcResult<pb::GetAvailableDidResponse> {
        let (caller, message) = parts(request)?;
        let available = self.service.get_available(&caller, message).await?;
        Ok(Response::new(pb::GetAvailableDidResponse {
            available_did: Some(available.into()),
        }))
    }

    async fn list_dids(
        &self,
        request: Request<pb::ListDidsRequest>,
    ) -> RpcResult<Self::ListDidsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let pages = self.service.list(&caller, message, deadline).await?;
        let open = self.streams.open(Did::RESOURCE.scope());
        Ok(page_stream(pages, open, |data, meta| {
            pb::ListDidsResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn list_available_dids(
        &self,
        request: Request<pb::ListAvailableDidsRequest>,
    ) -> RpcResult<Self::ListAvailableDidsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let pages = self
            .service
            .list_available(&caller, message, deadline)
            .await?;
        let open = self.streams.open(Did::RESOURCE.scope());
        Ok(page_stream(pages, open, |data, meta| {
            pb::ListAvailableDidsResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn list_did_history(
        &self,
        request: Request<pb::ListDidHistoryRequest>,
    ) -> RpcResult<Self::ListDidHistoryStream> {
        let (caller, message) = parts(request)?;
        let pages = self.service.history(&caller, message).await?;
        Ok(history_stream(pages, |data, meta| {
            pb::ListDidHistoryResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn watch_dids(
        &self,
        request: Request<pb::WatchDidsRequest>,
    ) -> RpcResult<Self::WatchDidsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let events = self.service.watch(&caller, message, deadline).await?;
        Ok(watch_stream(
            events,
            self.watches.open(Did::RESOURCE.scope()),
        ))
    }

    async fn import_dids(
        &self,
        request: Request<Streaming<pb::ImportDidsRequest>>,
    ) -> RpcResult<Self::ImportDidsStream> {
        let (caller, messages) = parts(request)?;
        let batches = messages.map(|message| message.map_err(inbound));
        let replies = self.service.import(&caller, batches).await?;
        Ok(import_stream::<Did, _>(replies, |results| {
            pb::ImportDidsResponse { results }
        }))
    }

    async fn allocate_dids(
        &self,
        request: Request<pb::AllocateDidsRequest>,
    ) -> RpcResult<pb::AllocateDidsResponse> {
        let (caller, message) = parts(request)?;
        let dids = self.service.allocate(&caller, message).await?;
        Ok(Response::new(pb::AllocateDidsResponse {
            dids: dids.into_iter().map(pb::Did::from).collect(),
        }))
    }
}
