//! The RPCs of both services, written once. Each reads the caller, converts
//! the request, runs the inventory operation and converts the result; the
//! per-kind adapters only name the messages.

use super::convert::WireItem;
use super::deadline::deadline;
use crate::auth::Caller;
use crate::budget::StreamBudget;
use crate::domain::{Item, ItemId};
use crate::error::{Error, Result};
use crate::inventory::{AvailableLookup, AvailableRequest, Inventory, ListRequest, Write};
use crate::metrics::{OpenStream, StreamMetrics};
use crate::proto::v1 as pb;
use crate::store::{PageReceiver, Store, StoredKind};
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::Instrument;

pub type RpcResult<T> = std::result::Result<Response<T>, Status>;

/// A server stream of list pages.
pub type PageStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

/// How a resource kind looks on the wire.
pub trait Wire: StoredKind {
    /// `Did`, `SenderId`.
    type Message: From<WireItem> + Send + 'static;
    /// `AvailableDid`, `AvailableSenderId`.
    type Available: From<WireItem> + Send + 'static;
}

pub struct Handlers<K> {
    inventory: Inventory<K>,
    streams: StreamMetrics,
    budget: Arc<StreamBudget>,
}

impl<K: Wire> Handlers<K> {
    pub fn new(store: Store, streams: StreamMetrics, budget: Arc<StreamBudget>) -> Self {
        Self {
            inventory: Inventory::new(store),
            streams,
            budget,
        }
    }

    /// Create, update, delete, assign, unassign. The caller's right to write
    /// is checked before the request is looked at, so that a caller without
    /// it learns nothing from validation errors.
    pub async fn write<Req, Resp>(
        &self,
        request: Request<Req>,
        respond: fn(K::Message) -> Resp,
    ) -> RpcResult<Resp>
    where
        Req: TryInto<Write<K>, Error = Error>,
    {
        let caller = caller_of(&request)?;
        let writer = caller.authorize_write::<K>()?;
        let change = request.into_inner().try_into()?;
        let inventory = self.inventory.clone();
        let item = to_completion(async move { inventory.write(writer, change).await }).await?;
        Ok(reply(&caller, item, respond))
    }

    pub async fn get<Req, Resp>(
        &self,
        request: Request<Req>,
        respond: fn(K::Message) -> Resp,
    ) -> RpcResult<Resp>
    where
        Req: TryInto<ItemId, Error = Error>,
    {
        let caller = reader::<K, _>(&request)?;
        let id = request.into_inner().try_into()?;
        let (inventory, reader) = (self.inventory.clone(), caller.clone());
        let item = to_completion(async move { inventory.get(&reader, id).await }).await?;
        Ok(reply(&caller, item, respond))
    }

    pub async fn list<Req, Resp>(
        &self,
        request: Request<Req>,
        respond: fn(Vec<K::Message>, pb::PaginationMeta) -> Resp,
    ) -> RpcResult<PageStream<Resp>>
    where
        Req: TryInto<ListRequest<K>, Error = Error>,
        Resp: Send + 'static,
    {
        let caller = reader::<K, _>(&request)?;
        let until = deadline(request.metadata());
        let list = request.into_inner().try_into()?;
        let pass = self.budget.enter(&caller, until).await?;
        let pages = self.inventory.list(&caller, list, until, pass)?;
        let staff = caller.is_staff();
        Ok(stream_pages(
            pages,
            self.streams.open(K::SCOPE),
            move |item| WireItem::new(item, staff).into(),
            respond,
        ))
    }

    pub async fn list_available<Req, Resp>(
        &self,
        request: Request<Req>,
        respond: fn(Vec<K::Available>, pb::PaginationMeta) -> Resp,
    ) -> RpcResult<PageStream<Resp>>
    where
        Req: TryInto<AvailableRequest, Error = Error>,
        Resp: Send + 'static,
    {
        let caller = reader::<K, _>(&request)?;
        let until = deadline(request.metadata());
        let list = request.into_inner().try_into()?;
        let pass = self.budget.enter(&caller, until).await?;
        let pages = self.inventory.list_available(&caller, list, until, pass)?;
        Ok(stream_pages(
            pages,
            self.streams.open(K::SCOPE),
            |item| WireItem::new(item, false).into(),
            respond,
        ))
    }

    pub async fn get_available<Req, Resp>(
        &self,
        request: Request<Req>,
        respond: fn(K::Available) -> Resp,
    ) -> RpcResult<Resp>
    where
        Req: TryInto<AvailableLookup, Error = Error>,
    {
        let caller = reader::<K, _>(&request)?;
        let lookup = request.into_inner().try_into()?;
        let inventory = self.inventory.clone();
        let item =
            to_completion(async move { inventory.get_available(&caller, lookup).await }).await?;
        Ok(Response::new(respond(WireItem::new(item, false).into())))
    }
}

/// Runs `work` to its end even if the client cancels the call, which drops
/// the handler: a database call dropped halfway leaves its pooled connection
/// mid-reply, and sqlx then waits forever to test it before reuse.
async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(work.in_current_span())
        .await
        .map_err(|e| Error::internal(format!("the operation did not finish: {e}")))?
}

/// The caller of a read, checked against the resource's read scope.
fn reader<K: Wire, T>(request: &Request<T>) -> Result<Caller> {
    let caller = caller_of(request)?;
    caller.authorize_read::<K>()?;
    Ok(caller)
}

/// The caller put in the request by the authentication interceptor.
fn caller_of<T>(request: &Request<T>) -> Result<Caller> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| {
            Error::internal("no caller in the request: is the auth interceptor installed?")
        })
}

fn reply<K: Wire, Resp>(
    caller: &Caller,
    item: Item<K>,
    respond: fn(K::Message) -> Resp,
) -> Response<Resp> {
    Response::new(respond(WireItem::new(item, caller.is_staff()).into()))
}

/// The pages as wire messages; `open` counts them and the stream as open
/// until tonic drops it.
fn stream_pages<K: StoredKind, T: Send + 'static, Resp: Send + 'static>(
    pages: PageReceiver<K>,
    open: OpenStream,
    to_wire: impl Fn(Item<K>) -> T + Send + 'static,
    respond: fn(Vec<T>, pb::PaginationMeta) -> Resp,
) -> Response<PageStream<Resp>> {
    let stream = ReceiverStream::new(pages).map(move |page| {
        let page = page?;
        open.sent(page.items.len());
        Ok(respond(
            page.items.into_iter().map(&to_wire).collect(),
            page.meta.into(),
        ))
    });
    Response::new(Box::pin(stream))
}
