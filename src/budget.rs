//! The budget of list streams. A list holds a database connection, inside
//! a snapshot transaction, for as long as it streams, so lists may use only
//! part of the pool (unary calls always find a connection), one caller only
//! part of that (no tenant takes it all), and a list beyond the budget waits
//! for a bounded time, then is refused `RESOURCE_EXHAUSTED`.

use crate::auth::{Caller, Role};
use crate::config::{ChangeSettings, StreamSettings};
use crate::error::Error;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Who a place in a budget is counted against: a reseller's whole
/// organization (one tenant), one staff user, or, before a caller is
/// known, the address a connection comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    Organization(uuid::Uuid),
    User(uuid::Uuid),
    Peer(IpAddr),
}

impl Holder {
    pub fn of(caller: &Caller) -> Self {
        match (caller.role(), caller.organization_id()) {
            (Role::Reseller, Some(organization)) => Holder::Organization(organization.as_uuid()),
            _ => Holder::User(caller.user_id().as_uuid()),
        }
    }
}

/// Each holder's own places, `per_holder` of them: a holder is kept only
/// while it holds or awaits a place, so that the map stays as small as the
/// set of callers busy right now.
#[derive(Debug)]
pub struct Places {
    per_holder: usize,
    holders: Mutex<HashMap<Holder, Arc<Semaphore>>>,
}

impl Places {
    pub fn new(per_holder: usize) -> Self {
        Self {
            per_holder,
            holders: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_holder(&self) -> usize {
        self.per_holder
    }

    /// The places of `holder`; [`Places::forget_if_unused`] once a place
    /// taken from them is given back.
    pub fn of(&self, holder: Holder) -> Arc<Semaphore> {
        let mut holders = self.holders.lock().unwrap_or_else(|e| e.into_inner());
        holders
            .entry(holder)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_holder)))
            .clone()
    }

    pub fn forget_if_unused(&self, holder: Holder) {
        let mut holders = self.holders.lock().unwrap_or_else(|e| e.into_inner());
        if holders
            .get(&holder)
            .is_some_and(|places| Arc::strong_count(places) == 1)
        {
            holders.remove(&holder);
        }
    }
}

#[derive(Debug)]
pub struct StreamBudget {
    server: Arc<Semaphore>,
    size: usize,
    holders: Places,
    queue_timeout: Duration,
    stall_timeout: Duration,
    /// What the places are for, in messages: "list streams", "watches".
    what: &'static str,
}

impl StreamBudget {
    /// The budget for a pool of `pool_size` connections.
    pub fn new(settings: &StreamSettings, pool_size: u32) -> Arc<Self> {
        // Lists never take the whole pool (but for a pool of one, which
        // they must share).
        let most = pool_size.saturating_sub(1).max(1);
        let size = match settings.list_streams {
            0 => (pool_size / 2).max(1),
            n if n > most => {
                tracing::warn!(
                    list_streams = n,
                    pool_size,
                    "--list-streams would leave unary calls no connection: using {most}"
                );
                most
            }
            n => n,
        } as usize;
        Arc::new(Self {
            server: Arc::new(Semaphore::new(size)),
            size,
            holders: Places::new(settings.list_streams_per_caller as usize),
            queue_timeout: settings.stream_queue_timeout,
            stall_timeout: settings.stream_stall_timeout,
            what: "list streams",
        })
    }

    /// The budget of watches: they hold no connection while they wait, so
    /// their bound is their own, and a watch beyond it is refused at once.
    pub fn for_watches(settings: &StreamSettings, watches: &ChangeSettings) -> Arc<Self> {
        let size = watches.max_watches as usize;
        Arc::new(Self {
            server: Arc::new(Semaphore::new(size)),
            size,
            holders: Places::new(watches.watches_per_caller as usize),
            queue_timeout: Duration::ZERO,
            stall_timeout: settings.stream_stall_timeout,
            what: "watches",
        })
    }

    /// A place for one list stream of `caller`, waiting at most the queue
    /// timeout, and never past the call's deadline.
    pub async fn enter(
        self: &Arc<Self>,
        caller: &Caller,
        deadline: Option<Instant>,
    ) -> Result<StreamPass, Error> {
        let queue_ends = Instant::now() + self.queue_timeout;
        let until = deadline.map_or(queue_ends, |deadline| deadline.min(queue_ends));
        let holder = Holder::of(caller);
        // Dropped on a refusal too, so that the holder is forgotten.
        let mut pass = StreamPass {
            budget: self.clone(),
            holder,
            places: None,
        };
        // Past the call's deadline the wait ends as DEADLINE_EXCEEDED, past
        // the queue timeout as a refusal.
        let gave_up = |refusal: String| match deadline {
            Some(deadline) if deadline <= queue_ends => Error::DeadlineExceeded,
            _ => too_many(refusal),
        };
        let caller_place = tokio::time::timeout_at(until, self.holders.of(holder).acquire_owned())
            .await
            .map_err(|_| {
                gave_up(format!(
                    "this caller already runs {} {}, its limit: finish one first",
                    self.holders.per_holder(),
                    self.what
                ))
            })?
            .expect("the semaphore is never closed");
        let server_place = tokio::time::timeout_at(until, self.server.clone().acquire_owned())
            .await
            .map_err(|_| {
                gave_up(format!(
                    "the server runs {} {}, its limit: retry with backoff",
                    self.size, self.what
                ))
            })?
            .expect("the semaphore is never closed");
        pass.places = Some((caller_place, server_place));
        Ok(pass)
    }

    /// How long a stream may wait for its client to take a message.
    pub fn stall_timeout(&self) -> Duration {
        self.stall_timeout
    }
}

fn too_many(message: String) -> Error {
    Error::TooManyStreams(message)
}

/// One list stream's place in the budget, and how long it may wait for
/// its client to take a page.
#[derive(Debug)]
pub struct StreamPass {
    budget: Arc<StreamBudget>,
    holder: Holder,
    places: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
}

impl StreamPass {
    pub fn stall_timeout(&self) -> Duration {
        self.budget.stall_timeout
    }
}

impl Drop for StreamPass {
    fn drop(&mut self) {
        drop(self.places.take());
        self.budget.holders.forget_if_unused(self.holder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(list_streams: u32, pool_size: u32) -> usize {
        let mut settings = crate::config::Settings::defaults().streams;
        settings.list_streams = list_streams;
        StreamBudget::new(&settings, pool_size).size
    }

    #[test]
    fn lists_take_half_the_pool_and_never_all_of_it() {
        assert_eq!(budget(0, 10), 5);
        assert_eq!(budget(0, 1), 1);
        assert_eq!(budget(3, 10), 3);
        assert_eq!(budget(10, 10), 9);
        assert_eq!(budget(4, 1), 1);
    }
}
