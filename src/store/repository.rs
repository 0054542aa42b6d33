//! What the service asks of the store about one resource kind, each call a
//! few lines: a write handed to the runner, or a read of a leaf module. It
//! decides no rule and knows nothing of gRPC.

use super::allocation::{Allocate, Allocation};
use super::changelog::{self, HistoryReceiver};
use super::entity::StoredKind;
use super::feed::Feed;
use super::hold_limit::HoldLimit;
use super::import::{self, ImportRow};
use super::items::{self, Change, Create};
use super::listing::{self, PageReceiver};
use super::pool::Store;
use super::revisions::{Positions, positions};
use super::runner::{self, Remember, Writer};
use crate::budget::StreamPass;
use crate::domain::{
    CountryCode, Effect, Filter, Item, ItemId, ListQuery, PageRequest, Revision, Timestamp, UserId,
    Visibility,
};
use crate::error::{Error, Result};
use std::marker::PhantomData;
use std::time::Duration;
use tokio::time::Instant;

pub struct Repository<K> {
    store: Store,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Repository<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: StoredKind> Repository<K> {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            kind: PhantomData,
        }
    }

    /// The last revision known committed, moving as changes commit.
    pub fn feed(&self) -> &Feed {
        self.store.feed()
    }

    /// Creates `item`, with its change.
    pub async fn create(
        &self,
        item: Item<K>,
        by: UserId,
        remember: Option<Remember>,
    ) -> Result<Item<K>> {
        let writer = Writer::of_one(Some(by), remember);
        runner::run(&self.store, writer, Create { item, by }).await
    }

    /// Changes the item `id` (deleted or not) as `decide` says, given the
    /// item as it is (locked until the write commits) and the write's
    /// instant; within `limit`, if the write may add a hold.
    pub async fn change<F>(
        &self,
        id: ItemId,
        by: UserId,
        remember: Option<Remember>,
        limit: Option<HoldLimit>,
        decide: F,
    ) -> Result<Item<K>>
    where
        F: FnOnce(Item<K>, Timestamp) -> Result<Effect<K>> + Send + 'static,
    {
        let writer = Writer {
            limit,
            ..Writer::of_one(Some(by), remember)
        };
        let by = Some(by);
        runner::run(&self.store, writer, Change { id, by, decide }).await
    }

    /// Takes the items `allocation` asks for, all or none. A deadlock is
    /// retried: an allocation moves many items, whose kept counts' row
    /// triggers (MariaDB) lock count cells in row order, so two overlapping
    /// allocations can deadlock there, and the loser must not fail for it.
    pub async fn allocate(
        &self,
        allocation: Allocation,
        by: UserId,
        remember: Option<Remember>,
        limit: Option<HoldLimit>,
    ) -> Result<Vec<Item<K>>> {
        runner::retrying_deadlocks("allocation", || {
            let writer = Writer {
                by: Some(by),
                remember: remember.clone(),
                answers: allocation.count,
                limit,
            };
            let allocate = Allocate {
                allocation: allocation.clone(),
                by,
            };
            runner::run::<K, _>(&self.store, writer, allocate)
        })
        .await
    }

    /// Records the expiry of the holds that have ended, oldest first, up to
    /// `limit` of them: each in its own write, so that another process
    /// sweeping at the same time finds the hold already cleared. Returns
    /// how many it found.
    pub async fn expire_holds(&self, limit: u64) -> Result<usize> {
        let now = Timestamp::now();
        let ended = self
            .store
            .detached(move |store| async move {
                Ok(items::ended_holds::<K>(store.connection()?, now, limit).await?)
            })
            .await?;
        for &id in &ended {
            let decide = |item: Item<K>, _: Timestamp| Ok(Effect::Unchanged(item));
            let expire = Change {
                id,
                by: None,
                decide,
            };
            match runner::run(&self.store, Writer::of_one(None, None), expire).await {
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(ended.len())
    }

    /// Creates the rows' items in one transaction; see [`import::import`].
    pub async fn import(
        &self,
        rows: Vec<ImportRow<K>>,
        by: UserId,
        atomic: bool,
    ) -> Result<Vec<Result<Item<K>>>> {
        import::import(&self.store, rows, by, atomic).await
    }

    /// How many batches of one import may be written at once.
    pub fn batches_at_once(&self) -> usize {
        import::batches_at_once(&self.store)
    }

    /// The item with this id, if `visibility` shows it and `filter` keeps it.
    pub async fn find(
        &self,
        visibility: Visibility,
        id: ItemId,
        filter: Filter<K>,
    ) -> Result<Option<Item<K>>> {
        self.store
            .detached(move |store| async move {
                let db = store.connection()?;
                Ok(items::find(db, store.backend(), visibility, id, &filter).await?)
            })
            .await
    }

    /// Streams the pages of `query`; see [`listing::list`].
    pub fn list(
        &self,
        visibility: Visibility,
        query: ListQuery<K>,
        deadline: Option<Instant>,
        pass: StreamPass,
    ) -> PageReceiver<K> {
        listing::list(&self.store, visibility, query, deadline, pass)
    }

    /// The head and the purge horizon.
    pub async fn positions(&self) -> Result<Positions> {
        self.store
            .detached(|store| async move {
                let _reader = store.log_reader().await;
                Ok(positions(store.connection()?).await?)
            })
            .await
    }

    /// Up to `limit` changes after `after`, up to `through`, in order.
    pub async fn changes_after(
        &self,
        after: Revision,
        through: Revision,
        limit: u64,
    ) -> Result<Vec<crate::domain::Change<K>>> {
        changelog::changes_after(&self.store, after, through, limit).await
    }

    /// The item that held `value` (in `country`) at `at`; see
    /// [`changelog::as_of`].
    pub async fn as_of(
        &self,
        value: &K::Value,
        country: Option<CountryCode>,
        at: Timestamp,
    ) -> Result<Option<crate::domain::Change<K>>> {
        changelog::as_of(&self.store, value, country, at).await
    }

    /// The pages of item `id`'s history; see [`changelog::history`].
    pub fn history(
        &self,
        id: ItemId,
        paging: PageRequest,
        all_pages: bool,
        stall: Duration,
    ) -> HistoryReceiver<K> {
        changelog::history(&self.store, id, paging, all_pages, stall)
    }
}
