//! Watches: every change to what the caller may see, in revision order,
//! each once, after an optional initial state.
//!
//! A watch is a task that reads the change log by revision whenever the
//! head moves (the store's feed: local commits, PostgreSQL's NOTIFY, or a
//! poll of the head on MariaDB and SQLite) and at each heartbeat. Between
//! reads it holds no connection and no transaction, and at most one batch
//! of changes: a slow client only slows its own watch. One that takes no
//! message for the stall timeout is cut off (RESOURCE_EXHAUSTED,
//! STREAM_STALLED) and resumes from the last revision it took; one whose
//! position the purge has passed is OUT_OF_RANGE (REVISION_COMPACTED).

use super::{Parse, Service, WatchRequest, shown_at};
use crate::auth::Caller;
use crate::budget::StreamPass;
use crate::domain::{
    Event, EventType, Filter, Invalid, ListQuery, PageRequest, Revision, Sort, SortField,
    SortOrder, Timestamp, WatchView,
};
use crate::error::{Error, Result};
use crate::store::StoredKind;
use futures::Stream;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

/// Changes read from the log per query.
const BATCH: u64 = 500;

/// One message of a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBatch<K: crate::domain::ResourceKind> {
    pub events: Vec<Event<K>>,
    /// Everything up to this revision has been sent.
    pub revision: Revision,
    pub initial_state_complete: bool,
    /// How many revisions the head was ahead when this was sent.
    pub lag: u64,
}

pub type Events<K> = std::pin::Pin<Box<dyn Stream<Item = Result<EventBatch<K>>> + Send>>;

impl<K: StoredKind> Service<K> {
    pub async fn watch(
        &self,
        caller: &Caller,
        request: impl Parse<WatchRequest>,
        deadline: Option<Instant>,
    ) -> Result<Events<K>> {
        caller.authorize_read::<K>()?;
        let WatchRequest {
            start,
            initial_state,
            organization_id,
            countries,
        } = request.try_into()?;
        if initial_state && start.is_some() {
            return Err(Error::invalid(
                "start_revision",
                Invalid::new("must be 0 with send_initial_state: the initial state is now"),
            ));
        }
        let view = WatchView {
            visibility: caller.visibility(),
            organization_id: caller.authorize_organization(organization_id)?,
            countries,
        };
        let pass = self.watches.enter(caller, deadline).await?;
        let positions = self.repository.positions().await?;
        if let Some(start) = start {
            if start < positions.compacted {
                return Err(Error::RevisionCompacted {
                    horizon: positions.compacted,
                });
            }
            // A revision no change has yet would be waited for in silence.
            if start > positions.latest {
                return Err(Error::RevisionAhead {
                    head: positions.latest,
                });
            }
        }
        let (sender, receiver) = mpsc::channel(1);
        // The error that ends a watch goes apart from its messages: the
        // channel is full when a client that stopped reading is cut off,
        // and the client must still learn why once it reads again.
        let (failed, failure) = oneshot::channel();
        let watcher = Watcher {
            service: self.clone(),
            caller: caller.clone(),
            view,
            sender,
            stall: pass.stall_timeout(),
            heartbeat: self.changes.watch_heartbeat,
        };
        let task = async move {
            let _pass: StreamPass = pass;
            let from = start.unwrap_or(positions.head);
            if let Err(error) = watcher.run(from, initial_state, deadline).await {
                let _ = failed.send(error);
            }
        };
        tokio::spawn(task.in_current_span());
        let failure =
            futures::stream::once(failure).filter_map(|ended| async move { ended.ok().map(Err) });
        Ok(Box::pin(ReceiverStream::new(receiver).chain(failure)))
    }
}

struct Watcher<K: StoredKind> {
    service: Service<K>,
    caller: Caller,
    view: WatchView,
    sender: mpsc::Sender<Result<EventBatch<K>>>,
    stall: Duration,
    heartbeat: Duration,
}

/// Why a watch stopped without an error to send.
struct Gone;

impl<K: StoredKind> Watcher<K> {
    async fn run(
        &self,
        from: Revision,
        initial_state: bool,
        deadline: Option<Instant>,
    ) -> Result<()> {
        let position = if initial_state {
            match self.initial_state(deadline).await? {
                Some(revision) => revision,
                None => return Ok(()),
            }
        } else {
            from
        };
        match self.follow(position).await? {
            Ok(()) | Err(Gone) => Ok(()),
        }
    }

    /// Every item in the view as ADDED, read from one snapshot, then the
    /// message that ends the initial state. Returns the snapshot's revision.
    async fn initial_state(&self, deadline: Option<Instant>) -> Result<Option<Revision>> {
        let service = &self.service;
        let query = ListQuery {
            filter: Filter {
                include_deleted: false,
                organization_id: self.view.organization_id,
                countries: self.view.countries.clone(),
                ..Filter::everything()
            },
            sort: Sort {
                field: SortField::CreatedAt,
                order: SortOrder::Asc,
            },
            paging: PageRequest::new(1, PageRequest::MAX_LIMIT)
                .map_err(|rule| Error::internal(rule.to_string()))?,
            start: None,
            all_pages: true,
        };
        let pass = service.budget.enter(&self.caller, deadline).await?;
        let mut pages = service
            .repository
            .list(self.view.visibility, query, deadline, pass);
        let mut snapshot = Revision::ZERO;
        while let Some(page) = pages.recv().await {
            let page = page?;
            snapshot = page.meta.revision;
            let now = Timestamp::now();
            let events = page
                .items
                .into_iter()
                .map(|item| Event {
                    event_type: EventType::Added,
                    revision: snapshot,
                    item: shown_at(&self.caller, item, now),
                })
                .collect();
            if self.send(events, snapshot, false).await?.is_err() {
                return Ok(None);
            }
        }
        match self.send(Vec::new(), snapshot, true).await? {
            Ok(()) => Ok(Some(snapshot)),
            Err(Gone) => Ok(None),
        }
    }

    /// The changes after `position`, as they commit, with a heartbeat
    /// whenever nothing was sent for a while.
    async fn follow(&self, mut position: Revision) -> Result<Result<(), Gone>> {
        let repository = &self.service.repository;
        let mut feed = repository.feed().subscribe();
        let mut quiet_since = Instant::now();
        loop {
            let moved = feed.wait_for(|head| *head > position);
            tokio::select! {
                _ = moved => {}
                () = tokio::time::sleep_until(quiet_since + self.heartbeat) => {}
                () = self.sender.closed() => return Ok(Err(Gone)),
            }
            let positions = repository.positions().await?;
            if position < positions.compacted {
                return Err(Error::RevisionCompacted {
                    horizon: positions.compacted,
                });
            }
            let mut events = Vec::new();
            if positions.head > position {
                let changes = repository
                    .changes_after(position, positions.head, BATCH)
                    .await?;
                position = match changes.last() {
                    Some(last) if changes.len() as u64 == BATCH => last.revision,
                    _ => positions.head,
                };
                let now = Timestamp::now();
                events = changes
                    .into_iter()
                    .filter_map(|change| self.view.event(change))
                    .map(|event| Event {
                        item: shown_at(&self.caller, event.item, now),
                        ..event
                    })
                    .collect();
            }
            if !events.is_empty() || quiet_since.elapsed() >= self.heartbeat {
                if let Err(gone) = self.send(events, position, false).await? {
                    return Ok(Err(gone));
                }
                quiet_since = Instant::now();
            }
        }
    }

    /// Sends one message, waiting at most the stall timeout for the client
    /// to take the one before.
    async fn send(
        &self,
        events: Vec<Event<K>>,
        revision: Revision,
        initial_state_complete: bool,
    ) -> Result<Result<(), Gone>> {
        let batch = EventBatch {
            events,
            revision,
            initial_state_complete,
            lag: self.service.repository.feed().lag(revision),
        };
        match tokio::time::timeout(self.stall, self.sender.send(Ok(batch))).await {
            Ok(Ok(())) => Ok(Ok(())),
            Ok(Err(_)) => Ok(Err(Gone)),
            Err(_) => Err(Error::StreamStalled { after: self.stall }),
        }
    }
}
