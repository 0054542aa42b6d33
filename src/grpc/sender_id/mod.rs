//! `numbering.v1.SenderIdService`: each RPC takes the caller the edge guard put in
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
use crate::domain::{ResourceKind, SenderId};
use crate::proto::v1 as pb;
use futures::StreamExt;
use tonic::codec::CompressionEncoding::Gzip;
use tonic::{Request, Response, Streaming};

/// The Sender ID service.
pub type SenderIdApi = Api<SenderId>;

impl Api<SenderId> {
    /// The server to register, under the generated service's name: gzip
    /// requests accepted, responses gzipped when asked.
    pub fn into_server(self) -> pb::sender_id_service_server::SenderIdServiceServer<Self> {
        pb::sender_id_service_server::SenderIdServiceServer::new(self)
            .accept_compressed(Gzip)
            .send_compressed(Gzip)
    }
}

#[tonic::async_trait]
impl pb::sender_id_service_server::SenderIdService for Api<SenderId> {
    type ListSenderIdsStream = PageStream<pb::ListSenderIdsResponse>;
    type ListAvailableSenderIdsStream = PageStream<pb::ListAvailableSenderIdsResponse>;
    type ListSenderIdHistoryStream = PageStream<pb::ListSenderIdHistoryResponse>;
    type WatchSenderIdsStream = PageStream<pb::WatchSenderIdsResponse>;
    type ImportSenderIdsStream = PageStream<pb::ImportSenderIdsResponse>;

    async fn create_sender_id(
        &self,
        request: Request<pb::CreateSenderIdRequest>,
    ) -> RpcResult<pb::CreateSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.create(&caller, message).await?;
        Ok(Response::new(pb::CreateSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn get_sender_id(
        &self,
        request: Request<pb::GetSenderIdRequest>,
    ) -> RpcResult<pb::GetSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.get(&caller, message).await?;
        Ok(Response::new(pb::GetSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn update_sender_id(
        &self,
        request: Request<pb::UpdateSenderIdRequest>,
    ) -> RpcResult<pb::UpdateSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.update(&caller, message).await?;
        Ok(Response::new(pb::UpdateSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn delete_sender_id(
        &self,
        request: Request<pb::DeleteSenderIdRequest>,
    ) -> RpcResult<pb::DeleteSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.delete(&caller, message).await?;
        Ok(Response::new(pb::DeleteSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn assign_sender_id(
        &self,
        request: Request<pb::AssignSenderIdRequest>,
    ) -> RpcResult<pb::AssignSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.assign(&caller, message).await?;
        Ok(Response::new(pb::AssignSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn unassign_sender_id(
        &self,
        request: Request<pb::UnassignSenderIdRequest>,
    ) -> RpcResult<pb::UnassignSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.unassign(&caller, message).await?;
        Ok(Response::new(pb::UnassignSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn hold_sender_id(
        &self,
        request: Request<pb::HoldSenderIdRequest>,
    ) -> RpcResult<pb::HoldSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.hold(&caller, message).await?;
        Ok(Response::new(pb::HoldSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn release_sender_id_hold(
        &self,
        request: Request<pb::ReleaseSenderIdHoldRequest>,
    ) -> RpcResult<pb::ReleaseSenderIdHoldResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.release_hold(&caller, message).await?;
        Ok(Response::new(pb::ReleaseSenderIdHoldResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn undelete_sender_id(
        &self,
        request: Request<pb::UndeleteSenderIdRequest>,
    ) -> RpcResult<pb::UndeleteSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.undelete(&caller, message).await?;
        Ok(Response::new(pb::UndeleteSenderIdResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn get_sender_id_as_of(
        &self,
        request: Request<pb::GetSenderIdAsOfRequest>,
    ) -> RpcResult<pb::GetSenderIdAsOfResponse> {
        let (caller, message) = parts(request)?;
        let sender_id = self.service.as_of(&caller, message).await?;
        Ok(Response::new(pb::GetSenderIdAsOfResponse {
            sender_id: Some(sender_id.into()),
        }))
    }

    async fn get_available_sender_id(
        &self,
        request: Request<pb::GetAvailableSenderIdRequest>,
    ) -> RpcResult<pb::GetAvailableSenderIdResponse> {
        let (caller, message) = parts(request)?;
        let available = self.service.get_available(&caller, message).await?;
        Ok(Response::new(pb::GetAvailableSenderIdResponse {
            available_sender_id: Some(available.into()),
        }))
    }

    async fn list_sender_ids(
        &self,
        request: Request<pb::ListSenderIdsRequest>,
    ) -> RpcResult<Self::ListSenderIdsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let pages = self.service.list(&caller, message, deadline).await?;
        let open = self.streams.open(SenderId::RESOURCE.scope());
        Ok(page_stream(pages, open, |data, meta| {
            pb::ListSenderIdsResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn list_available_sender_ids(
        &self,
        request: Request<pb::ListAvailableSenderIdsRequest>,
    ) -> RpcResult<Self::ListAvailableSenderIdsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let pages = self
            .service
            .list_available(&caller, message, deadline)
            .await?;
        let open = self.streams.open(SenderId::RESOURCE.scope());
        Ok(page_stream(pages, open, |data, meta| {
            pb::ListAvailableSenderIdsResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn list_sender_id_history(
        &self,
        request: Request<pb::ListSenderIdHistoryRequest>,
    ) -> RpcResult<Self::ListSenderIdHistoryStream> {
        let (caller, message) = parts(request)?;
        let pages = self.service.history(&caller, message).await?;
        Ok(history_stream(pages, |data, meta| {
            pb::ListSenderIdHistoryResponse {
                data,
                meta: Some(meta),
            }
        }))
    }

    async fn watch_sender_ids(
        &self,
        request: Request<pb::WatchSenderIdsRequest>,
    ) -> RpcResult<Self::WatchSenderIdsStream> {
        let deadline = deadline(request.metadata());
        let (caller, message) = parts(request)?;
        let events = self.service.watch(&caller, message, deadline).await?;
        Ok(watch_stream(
            events,
            self.watches.open(SenderId::RESOURCE.scope()),
        ))
    }

    async fn import_sender_ids(
        &self,
        request: Request<Streaming<pb::ImportSenderIdsRequest>>,
    ) -> RpcResult<Self::ImportSenderIdsStream> {
        let (caller, messages) = parts(request)?;
        let batches = messages.map(|message| message.map_err(inbound));
        let replies = self.service.import(&caller, batches).await?;
        Ok(import_stream::<SenderId, _>(replies, |results| {
            pb::ImportSenderIdsResponse { results }
        }))
    }
}
