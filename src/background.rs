//! The work every server process does by itself, beside the calls: the
//! purge of old history and remembered answers, and the recording of ended
//! holds.

use crate::config::ChangeSettings;
use crate::store::Store;
use std::time::Duration;

/// Purges history older than the retention, and remembered write answers
/// older than the idempotency window, at start and every hour after. Each
/// server process does it; a purge that finds nothing costs two scans of
/// the change log's time column.
pub(crate) async fn purge_history(store: Store, changes: ChangeSettings) {
    const EVERY: Duration = Duration::from_secs(3600);
    let ago = |age: Duration| {
        chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
            .into()
    };
    loop {
        let purged = crate::store::purge(
            &store,
            ago(changes.history_retention),
            ago(changes.idempotency_window),
        )
        .await;
        match purged {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "purged history and remembered writes"),
            Err(error) => tracing::warn!(%error, "purging history failed: retrying later"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Records the expiry of ended holds, every `every` (never, if zero): reads
/// already treat an ended hold as gone, so this only writes the
/// `hold_expired` change (and wakes watchers). Every server process that
/// sweeps may; the row lock of each write lets only one of them record a
/// given expiry.
pub(crate) async fn expire_holds(store: Store, every: Duration) {
    use crate::domain::{Did, SenderId};
    use crate::store::Repository;
    const BATCH: u64 = 500;
    if every.is_zero() {
        return;
    }
    let dids = Repository::<Did>::new(store.clone());
    let sender_ids = Repository::<SenderId>::new(store);
    loop {
        for swept in [
            dids.expire_holds(BATCH).await,
            sender_ids.expire_holds(BATCH).await,
        ] {
            match swept {
                Ok(0) => {}
                Ok(holds) => tracing::debug!(holds, "recorded expired holds"),
                Err(error) => tracing::warn!(%error, "recording expired holds failed: retrying"),
            }
        }
        tokio::time::sleep(every).await;
    }
}
