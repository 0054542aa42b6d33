//! The last revision this process knows committed, shared with every
//! watcher.

use crate::domain::Revision;
use tokio::sync::watch;

/// The last revision this process knows committed, shared with every
/// watcher: local writes move it at commit, and [`super::follow_changes`]
/// moves it for writes of other processes.
#[derive(Debug, Clone)]
pub struct Feed(std::sync::Arc<watch::Sender<Revision>>);

impl Feed {
    pub(super) fn new() -> Self {
        Self(std::sync::Arc::new(watch::Sender::new(Revision::ZERO)))
    }

    pub(super) fn advance(&self, revision: Revision) {
        self.0.send_if_modified(|head| {
            let moved = revision > *head;
            if moved {
                *head = revision;
            }
            moved
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<Revision> {
        self.0.subscribe()
    }

    pub(super) fn watched(&self) -> bool {
        self.0.receiver_count() > 0
    }
}
