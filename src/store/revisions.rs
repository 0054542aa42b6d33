//! The revision counter, the horizon of purged history, and the feed that
//! wakes watchers when the head moves, whichever process moved it.

use super::pool::Store;
use crate::domain::{Revision, Timestamp};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::time::Duration;

/// The PostgreSQL channel the head's trigger notifies.
const CHANNEL: &str = "numbering_changes";
/// How often MariaDB and SQLite are asked for the head while anyone
/// watches: a point read of one row.
const POLL: Duration = Duration::from_millis(200);

/// The next `n` revisions (n ≥ 1), taken in one update of the counter row:
/// the writer holds the row until it commits, so revisions commit in order.
/// Returns the last; the run is the `n` revisions up to it.
pub(super) async fn take(txn: &impl ConnectionTrait, n: u32) -> Result<Revision, DbErr> {
    let backend = txn.get_database_backend();
    let taken = match backend {
        DbBackend::MySql => {
            // MariaDB's UPDATE has no RETURNING: LAST_INSERT_ID(expr) keeps
            // the value for this connection.
            txn.execute_unprepared(&format!(
                "UPDATE revision_head SET revision = LAST_INSERT_ID(revision + {n}) WHERE id = 1"
            ))
            .await?;
            "SELECT LAST_INSERT_ID() AS revision".to_owned()
        }
        _ => format!(
            "UPDATE revision_head SET revision = revision + {n} WHERE id = 1 RETURNING revision"
        ),
    };
    let row = txn
        .query_one_raw(Statement::from_string(backend, taken))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the revision counter row".into()))?;
    let revision: i64 = match backend {
        // LAST_INSERT_ID() is unsigned.
        DbBackend::MySql => i64::try_from(row.try_get::<u64>("", "revision")?)
            .map_err(|e| DbErr::Custom(e.to_string()))?,
        _ => row.try_get("", "revision")?,
    };
    Ok(Revision::from(revision))
}

/// The head (the last committed revision) and the purge horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    pub head: Revision,
    /// Changes up to this revision may have been purged.
    pub compacted: Revision,
    /// History before this instant may have been purged.
    pub purged_before: Option<Timestamp>,
}

pub(super) async fn positions(db: &impl ConnectionTrait) -> Result<Positions, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT h.revision AS head, z.revision AS compacted, z.purged_before \
             FROM revision_head h CROSS JOIN history_horizon z WHERE h.id = 1 AND z.id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the revision counter row".into()))?;
    Ok(Positions {
        head: Revision::from(row.try_get::<i64>("", "head")?),
        compacted: Revision::from(row.try_get::<i64>("", "compacted")?),
        purged_before: row.try_get("", "purged_before")?,
    })
}

/// Follows the head written by every process until `stop`: PostgreSQL
/// notifies at each commit; MariaDB and SQLite are polled while anyone
/// watches.
pub async fn follow_changes(store: Store, mut stop: tokio::sync::oneshot::Receiver<()>) {
    loop {
        let followed = match store.backend() {
            DbBackend::Postgres => listen(&store).await,
            _ => poll(&store).await,
        };
        if let Err(error) = followed {
            tracing::warn!(%error, "following the change log: retrying");
        }
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn poll(store: &Store) -> Result<(), DbErr> {
    loop {
        if store.feed.watched() {
            store
                .feed
                .advance(positions(store.connection()?).await?.head);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn listen(store: &Store) -> Result<(), DbErr> {
    use sea_orm::sqlx::postgres::PgListener;
    let sqlx = |e: sea_orm::sqlx::Error| DbErr::Custom(e.to_string());
    let mut listener = PgListener::connect_with(store.db.get_postgres_connection_pool())
        .await
        .map_err(sqlx)?;
    listener.listen(CHANNEL).await.map_err(sqlx)?;
    // Anything committed before the listener was up.
    store
        .feed
        .advance(positions(store.connection()?).await?.head);
    loop {
        // `None`: the connection was lost and remade; notifications
        // may have been missed meanwhile.
        match listener.try_recv().await.map_err(sqlx)? {
            Some(notification) => {
                if let Ok(revision) = notification.payload().parse::<i64>() {
                    store.feed.advance(Revision::from(revision));
                }
            }
            None => store
                .feed
                .advance(positions(store.connection()?).await?.head),
        }
    }
}
