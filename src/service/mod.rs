//! The inventory's RPCs, one method each, written once for both resource
//! kinds. Each owns every rule of its call: the caller's rights (checked
//! before the request is looked at, so that a caller without them learns
//! nothing from validation errors), what the caller may see, the redaction
//! of staff user ids, and what a write does to the item it finds (given to
//! the store as a closure, run on the locked row, etag checked first). The
//! store below runs the queries, each write in one transaction with its
//! change in the log.

mod history;
mod requests;
mod watch;

pub use history::HistoryPages;
pub use requests::{
    AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest, CreateRequest,
    HistoryRequest, ItemUpdate, ItemWrite, ListRequest, WatchRequest,
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
use crate::store::{Remember, Repository, Store, StoredKind};
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

    pub async fn update(
        &self,
        caller: &Caller,
        request: impl Parse<ItemUpdate<K>>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemUpdate {
            id,
            patch,
            precondition,
        } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            Ok(if item.apply(patch, by, at) {
                Effect::Changed(item, ChangeType::Updated)
            } else {
                Effect::Unchanged(item)
            })
        })
        .await
    }

    /// Soft-deletes a live item.
    pub async fn delete(&self, caller: &Caller, request: impl Parse<ItemWrite>) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            item.deleted_at = Some(at);
            item.deleted_by = Some(by);
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Deleted))
        })
        .await
    }

    /// Gives a shared item to an organization. Assigning it again to the
    /// same one changes nothing; an item another organization holds must be
    /// unassigned first.
    pub async fn assign(
        &self,
        caller: &Caller,
        request: impl Parse<AssignmentRequest>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let AssignmentRequest {
            id,
            organization_id,
            precondition,
        } = request.try_into()?;
        let by = writer.user_id();
        self.write(
            caller,
            by,
            id,
            precondition,
            move |mut item, at| match item.organization_id {
                Some(holder) if holder == organization_id => Ok(Effect::Unchanged(item)),
                Some(_) => Err(Error::AlreadyAssigned(K::RESOURCE)),
                None => {
                    item.organization_id = Some(organization_id);
                    item.touch(by, at);
                    Ok(Effect::Changed(item, ChangeType::Assigned))
                }
            },
        )
        .await
    }

    /// Returns an item to the shared pool; one already there is left as is.
    pub async fn unassign(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            if item.is_shared() {
                return Ok(Effect::Unchanged(item));
            }
            item.organization_id = None;
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Unassigned))
        })
        .await
    }

    /// A write of the live item `id`: `decide` says what it does, once the
    /// item is locked and its etag, if the request has one, matches.
    async fn write(
        &self,
        caller: &Caller,
        by: UserId,
        id: ItemId,
        precondition: Precondition,
        decide: impl FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    ) -> Result<Item<K>> {
        let etag = precondition.etag.clone();
        let remember = self.remember(precondition);
        let written = self
            .repository
            .change(id, by, remember, move |item, at| {
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

    /// The pages of a list, within the caller's visibility; a stream takes a
    /// place in the stream budget until its last page is sent.
    pub async fn list(
        &self,
        caller: &Caller,
        request: impl Parse<ListRequest<K>>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        caller.authorize_read::<K>()?;
        let ListRequest {
            status,
            shared,
            organization_id,
            countries,
            values,
            search,
            show_deleted,
            sort,
            paging,
            page_token,
            all_pages,
        } = request.try_into()?;
        if show_deleted {
            caller.authorize_show_deleted()?;
        }
        let query = ListQuery {
            filter: Filter {
                include_deleted: show_deleted,
                status,
                shared,
                organization_id: caller.authorize_organization(organization_id)?,
                holders: Holders::All,
                countries,
                values,
                search,
                search_description: true,
            },
            sort,
            paging,
            start: None,
            all_pages,
        };
        self.pages(caller, query, page_token, deadline).await
    }

    /// Active, live items that are shared or held by the organization, in
    /// identifier order.
    pub async fn list_available(
        &self,
        caller: &Caller,
        request: impl Parse<AvailableRequest>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        caller.authorize_read::<K>()?;
        let AvailableRequest {
            organization_id,
            search,
            order,
            paging,
            page_token,
            all_pages,
        } = request.try_into()?;
        let query = ListQuery {
            filter: Filter {
                search,
                ..Filter::available_to(caller.availability_for(organization_id)?)
            },
            sort: Sort {
                field: SortField::Value,
                order,
            },
            paging,
            start: None,
            all_pages,
        };
        self.pages(caller, query, page_token, deadline).await
    }

    pub async fn get_available(
        &self,
        caller: &Caller,
        request: impl Parse<AvailableLookup>,
    ) -> Result<Item<K>> {
        caller.authorize_read::<K>()?;
        let AvailableLookup {
            id,
            organization_id,
        } = request.try_into()?;
        let filter = Filter::available_to(caller.availability_for(organization_id)?);
        let found = self
            .repository
            .find(caller.visibility(), id, filter)
            .await?;
        found
            .map(|item| shown_to(caller, item))
            .ok_or(Error::NotFound(K::RESOURCE))
    }

    /// The pages of `query`, from the page `token` gives if there is one: a
    /// token is honoured only with the filters, sort and limit that gave it.
    async fn pages(
        &self,
        caller: &Caller,
        mut query: ListQuery<K>,
        token: Option<PageToken>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        if let Some(token) = token {
            if token.fingerprint != query.fingerprint(caller.visibility()) {
                return Err(Error::InvalidPageToken(Invalid::new(
                    "was given for other filters, sort or limit: send those again, or start \
                     from the first page",
                )));
            }
            query.paging = query.paging.at(token.page);
            query.start = Some(token.after);
        }
        let pass = self.budget.enter(caller, deadline).await?;
        let pages = self
            .repository
            .list(caller.visibility(), query, deadline, pass);
        let caller = caller.clone();
        Ok(Box::pin(ReceiverStream::new(pages).map(move |page| {
            let Page { items, meta, next } = page?;
            let items = items.into_iter().map(|item| shown_to(&caller, item));
            Ok(Page {
                items: items.collect(),
                meta,
                next,
            })
        })))
    }
}

/// The item as `caller` may see it: the ids of the staff who wrote it are
/// for staff only.
pub(crate) fn shown_to<K: StoredKind>(caller: &Caller, item: Item<K>) -> Item<K> {
    if caller.is_staff() {
        item
    } else {
        item.without_staff_ids()
    }
}
