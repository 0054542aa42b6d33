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
mod requests;
mod watch;

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

    /// Soft-deletes a live item; a hold on it ends with it.
    pub async fn delete(&self, caller: &Caller, request: impl Parse<ItemWrite>) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        self.write(caller, by, id, precondition, move |mut item, at| {
            item.deleted_at = Some(at);
            item.deleted_by = Some(by);
            item.hold = None;
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Deleted))
        })
        .await
    }

    /// Brings a soft-deleted item back (AIP-164), unless its identifier has
    /// been taken by a live item since.
    pub async fn undelete(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        // Only admins undelete, and they see every item, deleted or not.
        let found = |_: &Item<K>| true;
        self.write_any(
            caller,
            by,
            id,
            precondition,
            None,
            found,
            move |mut item, at| {
                if !item.is_deleted() {
                    return Err(Error::NotDeleted(K::RESOURCE));
                }
                item.deleted_at = None;
                item.deleted_by = None;
                item.touch(by, at);
                Ok(Effect::Changed(item, ChangeType::Restored))
            },
        )
        .await
    }

    /// Gives a shared item to an organization. Assigning it again to the
    /// same one changes nothing; an item another organization has, or
    /// holds, is refused. Assigning a held item to its holder ends the
    /// hold; an admin's assignment takes a resting DID too.
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
        self.write(caller, by, id, precondition, move |mut item, at| {
            match (item.organization_id, item.hold_at(at)) {
                (Some(holder), _) if holder == organization_id => Ok(Effect::Unchanged(item)),
                (Some(_), _) => Err(Error::AlreadyAssigned(K::RESOURCE)),
                (None, Some(hold)) if hold.organization_id != organization_id => {
                    Err(Error::Held(K::RESOURCE))
                }
                (None, _) => {
                    item.assign_to(organization_id);
                    item.touch(by, at);
                    Ok(Effect::Changed(item, ChangeType::Assigned))
                }
            }
        })
        .await
    }

    /// Returns an item to the shared pool; one already there is left as is.
    /// A DID then rests for `--aging-period` before it is offered again.
    pub async fn unassign(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = writer.user_id();
        let aging = self.aging_period();
        self.write(caller, by, id, precondition, move |mut item, at| {
            if item.is_shared() {
                return Ok(Effect::Unchanged(item));
            }
            item.organization_id = None;
            item.aging_expire_time = aging.map(|period| at.plus(period));
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Unassigned))
        })
        .await
    }

    /// Holds a shared item for an organization, or extends that
    /// organization's hold to now plus the ttl.
    pub async fn hold(&self, caller: &Caller, request: impl Parse<HoldRequest>) -> Result<Item<K>> {
        let rights = caller.authorize_holds::<K>()?;
        let HoldRequest {
            id,
            organization_id,
            ttl,
            precondition,
        } = request.try_into()?;
        let organization_id = rights.for_organization(organization_id)?;
        let limit = rights
            .is_limited()
            .then(|| self.hold_limit(organization_id, 1, Some(id)));
        let by = rights.user_id();
        let decide = move |mut item: Item<K>, at: Timestamp| {
            if !item.is_available_to(organization_id, at) {
                return Err(Error::NotAvailable(K::RESOURCE));
            }
            item.hold_for(organization_id, at.plus(ttl.get()));
            item.touch(by, at);
            Ok(Effect::Changed(item, ChangeType::Held))
        };
        let found = live_and_visible(caller);
        self.write_any(caller, by, id, precondition, limit, found, decide)
            .await
    }

    /// Ends the caller's hold (any hold, for an admin); an item the caller
    /// does not hold is left as is, so that a reseller learns nothing of
    /// other tenants' holds.
    pub async fn release_hold(
        &self,
        caller: &Caller,
        request: impl Parse<ItemWrite>,
    ) -> Result<Item<K>> {
        let rights = caller.authorize_holds::<K>()?;
        let ItemWrite { id, precondition } = request.try_into()?;
        let by = rights.user_id();
        self.write(
            caller,
            by,
            id,
            precondition,
            move |mut item, at| match item.hold_at(at) {
                Some(hold) if rights.may_release(hold.organization_id) => {
                    item.hold = None;
                    item.touch(by, at);
                    Ok(Effect::Changed(item, ChangeType::HoldReleased))
                }
                _ => Ok(Effect::Unchanged(item)),
            },
        )
        .await
    }

    /// Takes `count` items that nobody holds now (not even the
    /// organization: its holds are for other buyers), lowest identifiers
    /// first, and assigns or holds them all, or none.
    pub async fn allocate(
        &self,
        caller: &Caller,
        request: impl Parse<AllocationRequest>,
    ) -> Result<Vec<Item<K>>> {
        let (
            AllocationRequest {
                organization_id,
                count,
                country,
                prefix,
                hold,
                request,
            },
            limit,
        ) = {
            // Assigning is an admin's; holding is a reseller's too.
            let rights = caller.authorize_holds::<K>()?;
            let parsed: AllocationRequest = request.try_into()?;
            if parsed.hold.is_none() {
                caller.authorize_write::<K>()?;
            }
            rights.for_organization(parsed.organization_id)?;
            let limit = rights
                .is_limited()
                .then(|| self.hold_limit(parsed.organization_id, u64::from(parsed.count), None));
            (parsed, limit)
        };
        let by = caller.user_id();
        let remember = self.remember(Precondition {
            etag: None,
            request,
        });
        let allocation = Allocation {
            organization_id,
            count,
            country,
            prefix,
            hold,
        };
        let allocated = self
            .repository
            .allocate(allocation, by, remember, limit)
            .await?;
        let now = Timestamp::now();
        Ok(allocated
            .into_iter()
            .map(|item| shown_at(caller, item, now))
            .collect())
    }

    /// The hold limit of a reseller's write that adds `adding` holds for
    /// `organization` (or extends its hold of `extending`), checked by the
    /// store in the write's transaction.
    fn hold_limit(
        &self,
        organization: crate::domain::OrganizationId,
        adding: u64,
        extending: Option<ItemId>,
    ) -> HoldLimit {
        HoldLimit {
            organization_id: organization,
            max: self.changes.max_holds_per_organization,
            adding,
            extending,
        }
    }

    /// How long an item of this kind rests after it leaves an
    /// organization, if it does.
    fn aging_period(&self) -> Option<std::time::Duration> {
        let period = self.changes.aging_period;
        (K::AGES && !period.is_zero()).then_some(period)
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
                available_at: None,
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
                ..Filter::available_to(caller.availability_for(organization_id)?, Timestamp::now())
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
        let filter =
            Filter::available_to(caller.availability_for(organization_id)?, Timestamp::now());
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
            let now = Timestamp::now();
            let items = items.into_iter().map(|item| shown_at(&caller, item, now));
            Ok(Page {
                items: items.collect(),
                meta,
                next,
            })
        })))
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
