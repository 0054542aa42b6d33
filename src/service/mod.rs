//! The inventory's RPCs, one method each, written once for both resource
//! kinds. Each owns every rule of its call: the caller's rights (checked
//! before the request is looked at, so that a caller without them learns
//! nothing from validation errors), what the caller may see, the redaction
//! of staff user ids, and what a write does to the item it finds (given to
//! the store as a closure, run on the locked row, etag checked first). The
//! store below runs the queries, each write in one transaction with its
//! change in the log.

mod history;
mod import;
mod lists;
mod requests;
mod watch;
mod writes;

pub use history::HistoryPages;
pub use import::{ImportBatch, ImportReplies, ImportReply, MAX_IMPORT_ROWS};
pub use requests::{
    AllocationRequest, AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest,
    CreateRequest, HistoryRequest, HoldRequest, ItemUpdate, ItemWrite, ListRequest, WatchRequest,
};
pub use watch::{EventBatch, Events};

use crate::auth::Caller;
use crate::budget::StreamBudget;
use crate::config::ChangeSettings;
use crate::domain::{
    ChangeType, Effect, Etag, Filter, Holders, Invalid, Item, ItemId, ListQuery, Page, PageToken,
    Precondition, Sort, SortField, Timestamp, UserId,
};
use crate::error::{Error, Result};
use crate::store::{Allocation, HoldLimit, Remember, Repository, Store, StoredKind};
use futures::{Stream, StreamExt};
use std::sync::Arc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

/// A request as it arrives: converted only once the caller may make it.
pub trait Parse<T>: TryInto<T, Error = Error> {}
impl<T, R: TryInto<T, Error = Error>> Parse<T> for R {}

/// The pages of a list, as the caller may see them.
pub type Pages<K> = std::pin::Pin<Box<dyn Stream<Item = Result<Page<Item<K>>>> + Send>>;

pub struct Service<K> {
    repository: Repository<K>,
    budget: Arc<StreamBudget>,
    watches: Arc<StreamBudget>,
    changes: ChangeSettings,
}

impl<K> Clone for Service<K> {
    fn clone(&self) -> Self {
        Self {
            repository: self.repository.clone(),
            budget: self.budget.clone(),
            watches: self.watches.clone(),
            changes: self.changes.clone(),
        }
    }
}

impl<K: StoredKind> Service<K> {
    pub fn new(
        store: Store,
        budget: Arc<StreamBudget>,
        watches: Arc<StreamBudget>,
        changes: ChangeSettings,
    ) -> Self {
        Self {
            repository: Repository::new(store),
            budget,
            watches,
            changes,
        }
    }

    /// A new item, in the shared pool.
    pub async fn create(
        &self,
        caller: &Caller,
        request: impl Parse<CreateRequest<K>>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let CreateRequest { new, request } = request.try_into()?;
        let by = writer.user_id();
        let item = Item::create(new, by, Timestamp::now());
        let remember = self.remember(Precondition {
            etag: None,
            request,
        });
        let created = self.repository.create(item, by, remember).await?;
        Ok(shown_to(caller, created))
    }

    /// An item the caller may see; any other is NOT_FOUND, so that a
    /// reseller cannot tell another tenant's item from a missing one.
    pub async fn get(&self, caller: &Caller, request: impl Parse<ItemId>) -> Result<Item<K>> {
        caller.authorize_read::<K>()?;
        let id = request.try_into()?;
        let found = self
            .repository
            .find(caller.visibility(), id, Filter::everything())
            .await?;
        found
            .map(|item| shown_to(caller, item))
            .ok_or(Error::NotFound(K::RESOURCE))
    }

    /// A write of the live item `id` that the caller can see: `decide` says
    /// what it does, once the item is locked and its etag, if the request
    /// has one, matches.
    async fn write(
        &self,
        caller: &Caller,
        by: UserId,
        id: ItemId,
        precondition: Precondition,
        decide: impl FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    ) -> Result<Item<K>> {
        let found = live_and_visible(caller);
        self.write_any(caller, by, id, precondition, None, found, decide)
            .await
    }

    /// A write of the item `id` if `found` says the caller may find it (any
    /// other is NOT_FOUND, before its etag or state is looked at, so that
    /// the answer tells nothing of an item the caller may not see); one
    /// that may add a hold keeps within `limit`.
    #[allow(clippy::too_many_arguments)]
    async fn write_any(
        &self,
        caller: &Caller,
        by: UserId,
        id: ItemId,
        precondition: Precondition,
        limit: Option<HoldLimit>,
        found: impl Fn(&Item<K>) -> bool + Send + 'static,
        decide: impl FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    ) -> Result<Item<K>> {
        let etag = precondition.etag.clone();
        let remember = self.remember(precondition);
        let written = self
            .repository
            .change(id, by, remember, limit, move |item, at| {
                if !found(&item) {
                    return Err(Error::NotFound(K::RESOURCE));
                }
                if etag.is_some_and(|etag| etag != Etag::of(&item)) {
                    return Err(Error::EtagMismatch(K::RESOURCE));
                }
                decide(item, at)
            })
            .await?;
        Ok(shown_to(caller, written))
    }

    /// A write's `request_id`, remembered for the idempotency window.
    fn remember(&self, precondition: Precondition) -> Option<Remember> {
        let since = chrono::Duration::from_std(self.changes.idempotency_window)
            .ok()
            .and_then(|window| chrono::Utc::now().checked_sub_signed(window))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        precondition.request.map(|key| Remember {
            key,
            since: Timestamp::from(since),
        })
    }
}

/// Whether a write of `caller` finds an item: a live one it can see.
fn live_and_visible<K: StoredKind>(caller: &Caller) -> impl Fn(&Item<K>) -> bool + Send + 'static {
    let visibility = caller.visibility();
    move |item| !item.is_deleted() && visibility.shows(item)
}

/// The item as `caller` may see it now: an expired hold or a finished rest
/// is none; the ids of the staff who wrote it and the rest are for staff
/// only, and a hold for its organization only.
pub(crate) fn shown_to<K: StoredKind>(caller: &Caller, item: Item<K>) -> Item<K> {
    shown_at(caller, item, Timestamp::now())
}

/// The same at `now`, for the items of one page or batch, read together.
pub(crate) fn shown_at<K: StoredKind>(caller: &Caller, item: Item<K>, now: Timestamp) -> Item<K> {
    let item = item.as_seen_at(now);
    if caller.is_staff() {
        item
    } else {
        item.for_reseller(caller.organization_id())
    }
}
