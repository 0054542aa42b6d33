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
    /// How far apart the revisions of two transactions are at least.
    step: i64,
}

/// The revisions one PostgreSQL transaction may number (see `revisions`).
pub(super) const POSTGRES_BLOCK: i64 = 1 << 20;

impl Feed {
    /// A feed for `backend`, whose revisions are one apart (MariaDB,
    /// SQLite) or a transaction's block apart (PostgreSQL).
    pub(super) fn new(backend: sea_orm::DbBackend) -> Self {
        Self {
            head: Arc::new(watch::Sender::new(Revision::ZERO)),
            nudged: Arc::new(Notify::new()),
            step: match backend {
                sea_orm::DbBackend::Postgres => POSTGRES_BLOCK,
                _ => 1,
            },
        }
    }

    /// How far `revision` is behind the head: in changes on MariaDB and
    /// SQLite, in transactions on PostgreSQL.
    pub fn lag(&self, revision: Revision) -> u64 {
        let behind = self.head.borrow().get().saturating_sub(revision.get());
        behind.max(0).unsigned_abs() / self.step.unsigned_abs()
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    #[test]
    fn lag_counts_changes_or_postgresql_transactions() {
        let sqlite = Feed::new(DbBackend::Sqlite);
        sqlite.advance(Revision::from(10));
        assert_eq!(sqlite.lag(Revision::from(7)), 3);
        assert_eq!(sqlite.lag(Revision::from(12)), 0);
        let postgres = Feed::new(DbBackend::Postgres);
        postgres.advance(Revision::from(5 * POSTGRES_BLOCK - 1));
        assert_eq!(postgres.lag(Revision::from(3 * POSTGRES_BLOCK + 7)), 1);
        assert_eq!(postgres.lag(Revision::from(4 * POSTGRES_BLOCK)), 0);
    }
}
