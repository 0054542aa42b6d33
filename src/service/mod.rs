//! The inventory's RPCs, one method each, written once for both resource
//! kinds. Each owns every rule of its call: the caller's rights (checked
//! before the request is looked at, so that a caller without them learns
//! nothing from validation errors), what the caller may see, the redaction
//! of staff user ids, and what a write's outcome means (taken, already
//! assigned, not found). The store below runs the queries.

mod requests;

pub use requests::{AssignmentRequest, AvailableLookup, AvailableRequest, ItemUpdate, ListRequest};

use crate::auth::Caller;
use crate::budget::StreamBudget;
use crate::domain::{
    Filter, Holders, Invalid, Item, ItemId, ListQuery, NewItem, Page, PageToken, Sort, SortField,
    Timestamp,
};
use crate::error::{Error, Result};
use crate::store::{Outcome, Repository, Store, StoredKind};
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
}

impl<K> Clone for Service<K> {
    fn clone(&self) -> Self {
        Self {
            repository: self.repository.clone(),
            budget: self.budget.clone(),
        }
    }
}

impl<K: StoredKind> Service<K> {
    pub fn new(store: Store, budget: Arc<StreamBudget>) -> Self {
        Self {
            repository: Repository::new(store),
            budget,
        }
    }

    /// A new item, in the shared pool.
    pub async fn create(
        &self,
        caller: &Caller,
        request: impl Parse<NewItem<K>>,
    ) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let item = Item::create(request.try_into()?, writer.user_id(), Timestamp::now());
        let outcome = self.repository.insert(item).await?;
        settle(caller, outcome, refused_means_not_found)
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
        let ItemUpdate { id, patch } = request.try_into()?;
        let outcome = (self.repository)
            .update(id, patch, writer.user_id(), Timestamp::now())
            .await?;
        settle(caller, outcome, refused_means_not_found)
    }

    /// Soft-deletes a live item.
    pub async fn delete(&self, caller: &Caller, request: impl Parse<ItemId>) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let id = request.try_into()?;
        let outcome = (self.repository)
            .delete(id, writer.user_id(), Timestamp::now())
            .await?;
        settle(caller, outcome, refused_means_not_found)
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
        } = request.try_into()?;
        let outcome = (self.repository)
            .assign(id, organization_id, writer.user_id(), Timestamp::now())
            .await?;
        settle(caller, outcome, |held| {
            if held.organization_id == Some(organization_id) {
                Ok(held)
            } else {
                Err(Error::AlreadyAssigned(K::RESOURCE))
            }
        })
    }

    /// Returns an item to the shared pool; one already there is left as is.
    pub async fn unassign(&self, caller: &Caller, request: impl Parse<ItemId>) -> Result<Item<K>> {
        let writer = caller.authorize_write::<K>()?;
        let id = request.try_into()?;
        let outcome = (self.repository)
            .unassign(id, writer.user_id(), Timestamp::now())
            .await?;
        settle(caller, outcome, Ok)
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

/// What a write's outcome means for the caller; `refused` says it for a
/// write whose condition did not hold.
fn settle<K: StoredKind>(
    caller: &Caller,
    outcome: Outcome<K>,
    refused: impl FnOnce(Item<K>) -> Result<Item<K>>,
) -> Result<Item<K>> {
    let item = match outcome {
        Outcome::Done(item) => item,
        Outcome::Refused(item) => refused(item)?,
        Outcome::Missing => return Err(Error::NotFound(K::RESOURCE)),
        Outcome::Taken(item) => {
            return Err(Error::Taken {
                resource: K::RESOURCE,
                value: crate::domain::Identifier::as_str(&item.value).to_owned(),
                country: item.country,
            });
        }
    };
    Ok(shown_to(caller, item))
}

fn refused_means_not_found<K: StoredKind>(_: Item<K>) -> Result<Item<K>> {
    Err(Error::NotFound(K::RESOURCE))
}

/// The item as `caller` may see it: the ids of the staff who wrote it are
/// for staff only.
fn shown_to<K: StoredKind>(caller: &Caller, item: Item<K>) -> Item<K> {
    if caller.is_staff() {
        item
    } else {
        item.without_staff_ids()
    }
}
