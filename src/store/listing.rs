//! Lists: filters, ordering, keyset paging, and the page stream.
//!
//! A list runs in one read-only snapshot transaction: the total (summed from
//! the kept counts where they answer it) and every page see the same data.
//! The first page is found by OFFSET (a client may ask for any page), walking
//! ids only and then reading the page's rows by id; each following page
//! starts after the last row sent
//! (keyset), so streaming the whole inventory never re-reads skipped rows;
//! a stream reads a batch of whole pages per query (about a thousand rows).
//! Pages go through a channel of one, so at most a batch and a page are in
//! memory, and the producer stops (rolling the snapshot back) when the client
//! goes away or its deadline passes. It stops between queries, never inside one: a
//! query dropped halfway leaves its connection mid-reply, and sqlx then waits
//! forever to test it before reuse, which also holds up closing the pool.

use super::entity::StoredKind;
use super::ordering::{after, by_ids, cursor, ordered, total, walked_ids};
use super::pool::Store;
use crate::budget::StreamPass;
use crate::domain::{Item, ListQuery, Page, PageMeta, PageToken, Visibility};
use crate::error::{Error, Result};
use sea_orm::{QueryFilter, QuerySelect};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

pub type PageReceiver<K> = mpsc::Receiver<Result<Page<Item<K>>>>;

/// Streams the pages of `query`, as far as `visibility` lets the caller
/// see, into the returned channel, holding `pass` (its place in the
/// stream budget) until the last page is sent.
pub(super) fn list<K: StoredKind>(
    store: &Store,
    visibility: Visibility,
    query: ListQuery<K>,
    deadline: Option<Instant>,
    pass: StreamPass,
) -> PageReceiver<K> {
    let (sender, receiver) = mpsc::channel(1);
    let store = store.clone();
    let stall = pass.stall_timeout();
    let task = async move {
        let produced = produce(&store, visibility, &query, &sender, deadline, stall).await;
        drop(pass);
        if let Err(error) = produced {
            // No connection is held now; the client may be gone already,
            // or still not reading.
            let _ = tokio::time::timeout(stall, sender.send(Err(error))).await;
        }
    };
    tokio::spawn(task.in_current_span());
    receiver
}

async fn produce<K: StoredKind>(
    store: &Store,
    visibility: Visibility,
    query: &ListQuery<K>,
    sender: &mpsc::Sender<Result<Page<Item<K>>>>,
    deadline: Option<Instant>,
    stall: Duration,
) -> Result<()> {
    // The wait for a connection is bounded by the deadline; the begin
    // itself runs to its end in its own task (a query dropped halfway
    // spoils its connection), and is rolled back if nobody waits for it.
    let begin = tokio::spawn({
        let store = store.clone();
        async move { super::revisions::snapshot(&store).await }
    });
    // The snapshot, and the revision it holds every change up to.
    let (txn, revision) = match timeout_at(deadline, begin).await {
        Some(begun) => begun.map_err(|e| Error::internal(format!("begin: {e}")))??,
        None => return Err(Error::DeadlineExceeded),
    };
    let backend = store.backend();
    let total = total::<K>(&txn, backend, visibility, query).await?;
    let fingerprint = query.fingerprint(visibility);
    let mut request = query.paging;
    let batch = batch_size(request.limit(), query.all_pages);
    let first = match (&query.start, request.offset()) {
        (Some(cursor), _) => {
            ordered::<K>(backend, visibility, query).filter(after::<K>(cursor, query))
        }
        (None, 0) => ordered::<K>(backend, visibility, query),
        (None, offset) => {
            let ids = walked_ids::<K>(&txn, backend, visibility, query, offset, batch).await?;
            by_ids::<K>(ids, query)
        }
    };
    let mut buffered: VecDeque<Item<K>> = first
        .limit(batch)
        .into_model::<Item<K>>()
        .all(&txn)
        .await?
        .into();
    let mut exhausted = buffered.len() < batch as usize;
    loop {
        let meta = PageMeta::new(request, total, revision);
        let take = buffered.len().min(request.limit() as usize);
        let items: Vec<_> = buffered.drain(..take).collect();
        let last = items
            .last()
            .filter(|_| meta.has_next_page)
            .map(|item| cursor(item, query));
        let next = last.clone().map(|after| PageToken {
            fingerprint,
            page: meta.page.saturating_add(1),
            after,
        });
        // A slow client stalls the stream here, and only here: for the
        // stall timeout at most, then the stream ends and its snapshot
        // and connection go back.
        let page = Page { items, meta, next };
        let send = tokio::time::timeout(stall, sender.send(Ok(page)));
        match timeout_at(deadline, send).await {
            Some(Ok(Ok(()))) => {}
            Some(Ok(Err(_))) => break, // the client went away
            Some(Err(_)) => {
                txn.rollback().await?;
                return Err(Error::StreamStalled { after: stall });
            }
            None => return Err(Error::DeadlineExceeded),
        }
        let Some(last) = last.filter(|_| query.all_pages) else {
            break;
        };
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(Error::DeadlineExceeded);
        }
        request = request.next();
        // A batch is whole pages, so it runs out exactly at a page's end.
        if buffered.is_empty() && !exhausted {
            let more = ordered::<K>(backend, visibility, query)
                .filter(after::<K>(&last, query))
                .limit(batch)
                .into_model::<Item<K>>()
                .all(&txn)
                .await?;
            exhausted = more.len() < batch as usize;
            buffered.extend(more);
        }
    }
    txn.rollback().await?;
    Ok(())
}

/// Rows read per query when streaming every page: whole pages, about a
/// thousand rows, so that a long stream costs a query per batch rather than
/// per page. One page is read as one page.
const BATCH_ROWS: u32 = 1000;

fn batch_size(limit: u32, all_pages: bool) -> u64 {
    if all_pages {
        u64::from((BATCH_ROWS / limit).max(1) * limit)
    } else {
        u64::from(limit)
    }
}

/// `work`'s output, or `None` if `deadline` passes first.
async fn timeout_at<T>(deadline: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, work).await.ok(),
        None => Some(work.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        CountryCode, Did, Filter, Identifier, NewItem, PageRequest, PhoneNumber, Sort, SortField,
        SortOrder, Status, Timestamp, UserId,
    };
    use crate::store::Repository;

    /// A place in a fresh budget, for one admin's list.
    async fn pass() -> StreamPass {
        use crate::auth::{Caller, Role};
        let caller = Caller::new(UserId::from(uuid::Uuid::nil()), Role::Admin, None).unwrap();
        crate::budget::StreamBudget::new(&crate::config::Settings::defaults().streams, 4)
            .enter(&caller, None)
            .await
            .unwrap()
    }

    async fn store_with_dids(count: u32) -> (Store, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("numbering-unit-{}.db", uuid::Uuid::now_v7()));
        let store = Store::connect(
            &format!("sqlite://{}?mode=rwc", path.display()),
            4,
            Duration::ZERO,
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let repository = Repository::<Did>::new(store.clone());
        for n in 0..count {
            let new = NewItem {
                value: PhoneNumber::parse(&format!("1000{n}")).unwrap(),
                country: CountryCode::parse("MA").unwrap(),
                description: None,
                status: Status::Active,
            };
            let by = UserId::from(uuid::Uuid::nil());
            let item = Item::create(new, by, Timestamp::now());
            repository.create(item, by, None).await.unwrap();
        }
        (store, path)
    }

    fn remove_sqlite(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }

    fn every_page_one_by_one() -> ListQuery<Did> {
        ListQuery {
            filter: Filter {
                include_deleted: false,
                ..Filter::everything()
            },
            sort: Sort {
                field: SortField::Value,
                order: SortOrder::Asc,
            },
            paging: PageRequest::new(1, 1).unwrap(),
            start: None,
            all_pages: true,
        }
    }

    #[tokio::test]
    async fn a_slow_reader_gets_deadline_exceeded_once_the_deadline_passes() {
        let (store, path) = store_with_dids(5).await;
        let deadline = Instant::now() + Duration::from_millis(200);
        let mut pages = Repository::<Did>::new(store.clone()).list(
            Visibility::Everything,
            every_page_one_by_one(),
            Some(deadline),
            pass().await,
        );

        assert!(pages.recv().await.unwrap().is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut rest = Vec::new();
        while let Some(page) = pages.recv().await {
            rest.push(page);
        }

        assert!(rest.len() < 4, "every page arrived despite the deadline");
        assert!(
            matches!(rest.last(), Some(Err(Error::DeadlineExceeded))),
            "{rest:?}"
        );
        store.close().await.unwrap();
        remove_sqlite(&path);
    }

    #[tokio::test]
    async fn a_fast_reader_gets_every_page_before_the_deadline() {
        let (store, path) = store_with_dids(5).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut pages = Repository::<Did>::new(store.clone()).list(
            Visibility::Everything,
            every_page_one_by_one(),
            Some(deadline),
            pass().await,
        );

        let mut values = Vec::new();
        while let Some(page) = pages.recv().await {
            values.extend(page.unwrap().items.into_iter().map(|item| item.value.key()));
        }

        assert_eq!(values, ["10000", "10001", "10002", "10003", "10004"]);
        store.close().await.unwrap();
        remove_sqlite(&path);
    }
}
