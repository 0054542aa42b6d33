//! The thin RPC methods of both services. Each takes the caller the
//! edge guard put in the request, hands the message to the
//! [`Service`](crate::service::Service) (which converts it once the caller
//! may make the request) and converts the answer with the per-kind `From`
//! impls. [`rpc_methods!`] stamps these methods out for DIDs and Sender IDs;
//! the conversions are plain impls in `did.rs` and `sender_id.rs`.

use crate::auth::Caller;
use crate::domain::{Change, Item, Page, ResourceKind};
use crate::error::{Error, Result};
use crate::metrics::{OpenStream, OpenWatch};
use crate::proto::v1 as pb;
use crate::service::{EventBatch, Events, HistoryPages, ImportReplies, Pages};
use futures::{Stream, StreamExt};
use std::pin::Pin;
use tonic::{Request, Response, Status};

pub type RpcResult<T> = std::result::Result<Response<T>, Status>;

/// A server stream of list pages.
pub type PageStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

/// The caller and the message of a request.
pub fn parts<T>(request: Request<T>) -> Result<(Caller, T)> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Error::internal("no caller in the request: is the edge guard installed?"))?;
    Ok((caller, request.into_inner()))
}

/// The pages as wire messages; `open` counts them, and the stream as open
/// until tonic drops it.
pub fn page_stream<K: ResourceKind, T, Resp>(
    pages: Pages<K>,
    open: OpenStream,
    respond: fn(Vec<T>, pb::PaginationMeta) -> Resp,
) -> Response<PageStream<Resp>>
where
    T: From<Item<K>> + 'static,
    Resp: Send + 'static,
{
    let stream = pages.map(move |page| {
        let Page { items, meta, next } = page?;
        open.sent(items.len());
        Ok(respond(
            items.into_iter().map(T::from).collect(),
            super::convert::pagination_meta(meta, next),
        ))
    });
    Response::new(Box::pin(stream))
}

/// The pages of an item's history as wire messages.
pub fn history_stream<K: ResourceKind, T, Resp>(
    pages: HistoryPages<K>,
    respond: fn(Vec<T>, pb::PaginationMeta) -> Resp,
) -> Response<PageStream<Resp>>
where
    T: From<Change<K>> + 'static,
    Resp: Send + 'static,
{
    let stream = pages.map(move |page| {
        let Page { items, meta, next } = page?;
        Ok(respond(
            items.into_iter().map(T::from).collect(),
            super::convert::pagination_meta(meta, next),
        ))
    });
    Response::new(Box::pin(stream))
}

/// A watch's messages on the wire; `open` counts them, and the watch as
/// open until tonic drops it.
pub fn watch_stream<K: ResourceKind, Resp>(
    events: Events<K>,
    open: OpenWatch,
) -> Response<PageStream<Resp>>
where
    Resp: From<EventBatch<K>> + Send + 'static,
{
    let stream = events.map(move |batch| {
        let batch = batch?;
        open.sent(batch.events.len(), batch.lag);
        Ok(Resp::from(batch))
    });
    Response::new(Box::pin(stream))
}

/// An import's answers on the wire.
pub fn import_stream<K: ResourceKind, Resp>(
    replies: ImportReplies,
    respond: fn(Vec<pb::ImportRowResult>) -> Resp,
) -> Response<PageStream<Resp>>
where
    Resp: Send + 'static,
{
    let stream = replies.map(move |reply| Ok(respond(super::convert::import_results::<K>(reply?))));
    Response::new(Box::pin(stream))
}

macro_rules! rpc_methods {
    (
        $(#[$doc:meta])*
        $api:ident serves $server:ident::{$service:ident, $server_type:ident} for $kind:ident {
            item field: $field:ident,
            $create:ident($create_req:ident) -> $create_resp:ident,
            $get:ident($get_req:ident) -> $get_resp:ident,
            $update:ident($update_req:ident) -> $update_resp:ident,
            $delete:ident($delete_req:ident) -> $delete_resp:ident,
            $assign:ident($assign_req:ident) -> $assign_resp:ident,
            $unassign:ident($unassign_req:ident) -> $unassign_resp:ident,
            $list:ident($list_req:ident) -> $list_stream:ident<$list_resp:ident>,
            $list_available:ident($list_available_req:ident)
                -> $list_available_stream:ident<$list_available_resp:ident>,
            $get_available:ident($get_available_req:ident)
                -> $get_available_resp:ident { $available_field:ident },
            $history:ident($history_req:ident) -> $history_stream:ident<$history_resp:ident>,
            $as_of:ident($as_of_req:ident) -> $as_of_resp:ident,
            $watch:ident($watch_req:ident) -> $watch_stream:ident<$watch_resp:ident>,
            $hold:ident($hold_req:ident) -> $hold_resp:ident,
            $release:ident($release_req:ident) -> $release_resp:ident,
            $undelete:ident($undelete_req:ident) -> $undelete_resp:ident,
            $import:ident($import_req:ident) -> $import_stream:ident<$import_resp:ident>,
        }
        $(only this kind { $($own:tt)* })?
    ) => {
        $(#[$doc])*
        pub struct $api {
            service: $crate::service::Service<$kind>,
            streams: $crate::metrics::StreamMetrics,
            watches: $crate::metrics::WatchMetrics,
        }

        impl $api {
            pub fn new(
                service: $crate::service::Service<$kind>,
                streams: $crate::metrics::StreamMetrics,
                watches: $crate::metrics::WatchMetrics,
            ) -> Self {
                Self { service, streams, watches }
            }

            /// The server to register, under the generated service's name:
            /// gzip requests accepted, responses gzipped when asked.
            pub fn into_server(self) -> pb::$server::$server_type<Self> {
                use tonic::codec::CompressionEncoding::Gzip;
                pb::$server::$server_type::new(self)
                    .accept_compressed(Gzip)
                    .send_compressed(Gzip)
            }
        }

        #[tonic::async_trait]
        impl pb::$server::$service for $api {
            type $list_stream = $crate::grpc::adapter::PageStream<pb::$list_resp>;
            type $list_available_stream =
                $crate::grpc::adapter::PageStream<pb::$list_available_resp>;
            type $history_stream = $crate::grpc::adapter::PageStream<pb::$history_resp>;
            type $watch_stream = $crate::grpc::adapter::PageStream<pb::$watch_resp>;
            type $import_stream = $crate::grpc::adapter::PageStream<pb::$import_resp>;

            async fn $create(
                &self,
                request: tonic::Request<pb::$create_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$create_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.create(&caller, message).await?;
                Ok(tonic::Response::new(pb::$create_resp { $field: Some(item.into()) }))
            }

            async fn $get(
                &self,
                request: tonic::Request<pb::$get_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$get_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.get(&caller, message).await?;
                Ok(tonic::Response::new(pb::$get_resp { $field: Some(item.into()) }))
            }

            async fn $update(
                &self,
                request: tonic::Request<pb::$update_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$update_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.update(&caller, message).await?;
                Ok(tonic::Response::new(pb::$update_resp { $field: Some(item.into()) }))
            }

            async fn $delete(
                &self,
                request: tonic::Request<pb::$delete_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$delete_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.delete(&caller, message).await?;
                Ok(tonic::Response::new(pb::$delete_resp { $field: Some(item.into()) }))
            }

            async fn $assign(
                &self,
                request: tonic::Request<pb::$assign_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$assign_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.assign(&caller, message).await?;
                Ok(tonic::Response::new(pb::$assign_resp { $field: Some(item.into()) }))
            }

            async fn $unassign(
                &self,
                request: tonic::Request<pb::$unassign_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$unassign_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.unassign(&caller, message).await?;
                Ok(tonic::Response::new(pb::$unassign_resp { $field: Some(item.into()) }))
            }

            async fn $hold(
                &self,
                request: tonic::Request<pb::$hold_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$hold_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.hold(&caller, message).await?;
                Ok(tonic::Response::new(pb::$hold_resp { $field: Some(item.into()) }))
            }

            async fn $release(
                &self,
                request: tonic::Request<pb::$release_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$release_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.release_hold(&caller, message).await?;
                Ok(tonic::Response::new(pb::$release_resp { $field: Some(item.into()) }))
            }

            async fn $undelete(
                &self,
                request: tonic::Request<pb::$undelete_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$undelete_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.undelete(&caller, message).await?;
                Ok(tonic::Response::new(pb::$undelete_resp { $field: Some(item.into()) }))
            }

            async fn $import(
                &self,
                request: tonic::Request<tonic::Streaming<pb::$import_req>>,
            ) -> $crate::grpc::adapter::RpcResult<Self::$import_stream> {
                let (caller, messages) = $crate::grpc::adapter::parts(request)?;
                let batches = futures::StreamExt::map(messages, |message| {
                    message.map_err($crate::grpc::convert::inbound)
                });
                let replies = self.service.import(&caller, batches).await?;
                Ok($crate::grpc::adapter::import_stream::<$kind, _>(replies, |results| {
                    pb::$import_resp { results }
                }))
            }

            $($($own)*)?

            async fn $list(
                &self,
                request: tonic::Request<pb::$list_req>,
            ) -> $crate::grpc::adapter::RpcResult<Self::$list_stream> {
                let deadline = $crate::grpc::deadline::deadline(request.metadata());
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let pages = self.service.list(&caller, message, deadline).await?;
                Ok($crate::grpc::adapter::page_stream(
                    pages,
                    self.streams.open(<$kind as $crate::domain::ResourceKind>::RESOURCE.scope()),
                    |data, meta| pb::$list_resp { data, meta: Some(meta) },
                ))
            }

            async fn $list_available(
                &self,
                request: tonic::Request<pb::$list_available_req>,
            ) -> $crate::grpc::adapter::RpcResult<Self::$list_available_stream> {
                let deadline = $crate::grpc::deadline::deadline(request.metadata());
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let pages = self.service.list_available(&caller, message, deadline).await?;
                Ok($crate::grpc::adapter::page_stream(
                    pages,
                    self.streams.open(<$kind as $crate::domain::ResourceKind>::RESOURCE.scope()),
                    |data, meta| pb::$list_available_resp { data, meta: Some(meta) },
                ))
            }

            async fn $get_available(
                &self,
                request: tonic::Request<pb::$get_available_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$get_available_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.get_available(&caller, message).await?;
                Ok(tonic::Response::new(pb::$get_available_resp {
                    $available_field: Some(item.into()),
                }))
            }

            async fn $history(
                &self,
                request: tonic::Request<pb::$history_req>,
            ) -> $crate::grpc::adapter::RpcResult<Self::$history_stream> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let pages = self.service.history(&caller, message).await?;
                Ok($crate::grpc::adapter::history_stream(
                    pages,
                    |data, meta| pb::$history_resp { data, meta: Some(meta) },
                ))
            }

            async fn $as_of(
                &self,
                request: tonic::Request<pb::$as_of_req>,
            ) -> $crate::grpc::adapter::RpcResult<pb::$as_of_resp> {
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let item = self.service.as_of(&caller, message).await?;
                Ok(tonic::Response::new(pb::$as_of_resp { $field: Some(item.into()) }))
            }

            async fn $watch(
                &self,
                request: tonic::Request<pb::$watch_req>,
            ) -> $crate::grpc::adapter::RpcResult<Self::$watch_stream> {
                let deadline = $crate::grpc::deadline::deadline(request.metadata());
                let (caller, message) = $crate::grpc::adapter::parts(request)?;
                let events = self.service.watch(&caller, message, deadline).await?;
                Ok($crate::grpc::adapter::watch_stream(
                    events,
                    self.watches.open(<$kind as $crate::domain::ResourceKind>::RESOURCE.scope()),
                ))
            }
        }
    };
}

pub(crate) use rpc_methods;
