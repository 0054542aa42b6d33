//! The inventory's operations, written once for both resource kinds: each
//! applies the caller's rights, then the resource rules, through the store.

use crate::auth::{Caller, Writer};
use crate::budget::StreamPass;
use crate::domain::{
    CountryCode, Item, ItemId, ListQuery, NewItem, OrganizationId, PageRequest, Patch, Scope,
    SearchText, Sort, SortField, SortOrder, Status, Timestamp,
};
use crate::error::Result;
use crate::store::{PageReceiver, Repository, Store, StoredKind};
use tokio::time::Instant;

/// A change to the inventory, as a validated request asks it.
#[derive(Debug)]
pub enum Write<K: StoredKind> {
    Create(NewItem<K>),
    Update {
        id: ItemId,
        patch: Patch<K>,
    },
    Delete(ItemId),
    Assign {
        id: ItemId,
        organization_id: OrganizationId,
    },
    Unassign(ItemId),
}

/// `List…` as the client asked, before the caller's rights apply.
#[derive(Debug)]
pub struct ListRequest<K: StoredKind> {
    pub status: Option<Status>,
    pub shared: Option<bool>,
    pub organization_id: Option<OrganizationId>,
    pub countries: Vec<CountryCode>,
    pub values: Vec<K::Value>,
    pub search: Option<SearchText>,
    pub show_deleted: bool,
    pub sort: Sort,
    pub paging: PageRequest,
    pub all_pages: bool,
}

/// `ListAvailable…` as the client asked.
#[derive(Debug, Clone)]
pub struct AvailableRequest {
    pub organization_id: Option<OrganizationId>,
    pub search: Option<SearchText>,
    pub order: SortOrder,
    pub paging: PageRequest,
    pub all_pages: bool,
}

/// `GetAvailable…`: which item, for which organization.
#[derive(Debug, Clone, Copy)]
pub struct AvailableLookup {
    pub id: ItemId,
    pub organization_id: Option<OrganizationId>,
}

pub struct Inventory<K> {
    repository: Repository<K>,
}

impl<K> Clone for Inventory<K> {
    fn clone(&self) -> Self {
        Self {
            repository: self.repository.clone(),
        }
    }
}

impl<K: StoredKind> Inventory<K> {
    pub fn new(store: Store) -> Self {
        Self {
            repository: Repository::new(store),
        }
    }

    /// Runs a change, recording `writer` in the audit fields.
    pub async fn write(&self, writer: Writer, change: Write<K>) -> Result<Item<K>> {
        let (by, at) = (writer.user_id(), Timestamp::now());
        let repository = &self.repository;
        match change {
            Write::Create(new) => {
                let item = Item::create(new, by, at);
                repository.insert(&item).await?;
                Ok(item)
            }
            Write::Update { id, patch } => repository.update(id, patch, by, at).await,
            Write::Delete(id) => repository.delete(id, by, at).await,
            Write::Assign {
                id,
                organization_id,
            } => repository.assign(id, organization_id, by, at).await,
            Write::Unassign(id) => repository.unassign(id, by, at).await,
        }
    }

    /// An item the caller may see; any other is NOT_FOUND, so that a
    /// reseller cannot tell another tenant's item from a missing one.
    pub async fn get(&self, caller: &Caller, id: ItemId) -> Result<Item<K>> {
        self.repository
            .find(id)
            .await?
            .filter(|item| caller.may_read(item))
            .ok_or_else(crate::store::not_found::<K>)
    }

    pub fn list(
        &self,
        caller: &Caller,
        request: ListRequest<K>,
        deadline: Option<Instant>,
        pass: StreamPass,
    ) -> Result<PageReceiver<K>> {
        if request.show_deleted {
            caller.authorize_show_deleted()?;
        }
        let query = ListQuery {
            scope: caller.read_scope(),
            include_deleted: request.show_deleted,
            status: request.status,
            shared: request.shared,
            organization_id: caller.authorize_organization(request.organization_id)?,
            countries: request.countries,
            values: request.values,
            search: request.search,
            search_description: true,
            sort: request.sort,
            paging: request.paging,
            all_pages: request.all_pages,
        };
        Ok(self.repository.list(query, deadline, pass))
    }

    /// Active, live items that are shared or held by the organization.
    pub fn list_available(
        &self,
        caller: &Caller,
        request: AvailableRequest,
        deadline: Option<Instant>,
        pass: StreamPass,
    ) -> Result<PageReceiver<K>> {
        let query = ListQuery {
            scope: Scope::SharedOr(caller.availability_for(request.organization_id)?),
            include_deleted: false,
            status: Some(Status::Active),
            shared: None,
            organization_id: None,
            countries: Vec::new(),
            values: Vec::new(),
            search: request.search,
            search_description: false,
            sort: Sort {
                field: SortField::Value,
                order: request.order,
            },
            paging: request.paging,
            all_pages: request.all_pages,
        };
        Ok(self.repository.list(query, deadline, pass))
    }

    pub async fn get_available(&self, caller: &Caller, lookup: AvailableLookup) -> Result<Item<K>> {
        let scope = Scope::SharedOr(caller.availability_for(lookup.organization_id)?);
        self.repository
            .find(lookup.id)
            .await?
            .filter(|item| {
                !item.is_deleted()
                    && item.status == Status::Active
                    && scope.admits(item.organization_id)
            })
            .ok_or_else(crate::store::not_found::<K>)
    }
}
