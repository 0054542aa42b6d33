//! The head as this process last read it, shared with every watcher, and
//! the nudge that asks for it to be read again.

use crate::domain::Revision;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// The head (the revision up to which every change is committed and
/// readable) as last read: [`super::follow_changes`] reads it when a local
/// write nudges it, and every so often while anyone watches, for writes of
/// other processes.
#[derive(Debug, Clone)]
pub struct Feed {
    head: Arc<watch::Sender<Revision>>,
    nudged: Arc<Notify>,
}

impl Feed {
    pub(super) fn new() -> Self {
        Self {
            head: Arc::new(watch::Sender::new(Revision::ZERO)),
            nudged: Arc::new(Notify::new()),
        }
    }

    pub(super) fn advance(&self, revision: Revision) {
        self.head.send_if_modified(|head| {
            let moved = revision > *head;
            if moved {
                *head = revision;
            }
            moved
        });
    }

    /// A write committed here: read the head now rather than at the next
    /// poll. Nudges that come while one is pending make one read.
    pub(super) fn nudge(&self) {
        self.nudged.notify_one();
    }

    pub(super) async fn nudged(&self) {
        self.nudged.notified().await;
    }

    pub fn subscribe(&self) -> watch::Receiver<Revision> {
        self.head.subscribe()
    }

    pub(super) fn watched(&self) -> bool {
        self.head.receiver_count() > 0
    }
}
