//! What every RPC method shares, written once for both kinds: the caller
//! and message of a request, and the answers of the streaming RPCs as wire
//! messages.

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
