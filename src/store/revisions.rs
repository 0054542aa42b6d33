//! Revisions: how a write numbers its changes, and how far a reader may
//! read, so that readers see changes in revision order, each once, however
//! the writers' commits interleave.
//!
//! MariaDB and SQLite number changes from one counter row, which a writer
//! holds until it commits: revisions commit in order, without gaps, and
//! the head is the counter.
//!
//! On PostgreSQL, where a writer holding one row through its commit would
//! queue every other behind its WAL flush, a transaction numbers its
//! changes from its own transaction id (`xid8 × 2^20 + n`): writers never
//! wait for each other, and revisions have gaps. A writer first takes a
//! shared advisory lock, so that readers can find the writers in flight;
//! the head is just below the block of the oldest of them (or of the first
//! transaction id not yet begun, if none is), so every change up to the
//! head is committed (or rolled back) for good. Watchers read up to the
//! head; a list reads in a snapshot that holds exactly the changes up to
//! its revision (see [`snapshot`]).

use super::feed::Feed;
use super::pool::Store;
use crate::domain::{Revision, Timestamp};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};
use std::time::Duration;

/// How often the head is read while anyone watches, for writes of other
/// processes: a point read on MariaDB and SQLite, a read of the lock table
/// on PostgreSQL.
const POLL: Duration = Duration::from_millis(200);
/// Changes one PostgreSQL transaction may number: 2^20.
const BLOCK: i64 = super::feed::POSTGRES_BLOCK;
/// Announces a writer (PostgreSQL): the first statement of every write.
/// The lock on the counter's table (unused there otherwise) lets readers
/// find the writers in flight, and an exact snapshot wait for them; it does
/// not conflict with itself, and PostgreSQL takes it without touching the
/// shared lock table (a fast-path lock).
pub(super) async fn enter(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE revision_head IN ROW EXCLUSIVE MODE")
            .await?;
    }
    Ok(())
}

/// The next `n` revisions (n ≥ 1) from the counter row (MariaDB, SQLite;
/// PostgreSQL numbers changes as it inserts them, [`insert_numbered`]).
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
            "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS revision".to_owned()
        }
        _ => format!(
            "UPDATE revision_head SET revision = revision + {n} WHERE id = 1 RETURNING revision"
        ),
    };
    let row = txn
        .query_one_raw(Statement::from_string(backend, taken))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the revision counter row".into()))?;
    Ok(Revision::from(row.try_get::<i64>("", "revision")?))
}

/// A table, its columns, and rows of values in that order.
pub(super) type TableRows<'a> = (&'a str, &'a [&'a str], Vec<Vec<sea_orm::Value>>);

/// PostgreSQL: inserts `rows` into the change table `table`, numbered in
/// the same statement as the next revisions of this transaction (their
/// `revision` is replaced), in order. Returns the first. A transaction's
/// block holds 2^20 revisions; the largest write (an allocation of 1,000
/// items, each perhaps with its hold's expiry) numbers 2,000.
///
/// With `written`, the rows of another table (`table`, its columns, the
/// rows) go in in the same statement: a create is one round trip.
pub(super) async fn insert_numbered(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<sea_orm::Value>>,
    written: Option<TableRows<'_>>,
) -> Result<Revision, DbErr> {
    let mut values = vec![super::bulk::json_rows(columns, rows)?.into()];
    let mut before = String::new();
    if let Some((written_table, written_columns, written_rows)) = written {
        let list = written_columns.join(", ");
        before = format!(
            "written AS (INSERT INTO {written_table} ({list}) SELECT {list} \
             FROM json_populate_recordset(NULL::{written_table}, $2::json)), "
        );
        values.push(super::bulk::json_rows(written_columns, written_rows)?.into());
    }
    let list = columns.join(", ");
    let select = columns
        .iter()
        .map(|column| match *column {
            "revision" => "taken.last + r.ordinality".to_owned(),
            other => format!("r.{other}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH {before}{taken} INSERT INTO {table} ({list}) SELECT {select} \
         FROM taken, json_populate_recordset(NULL::{table}, $1::json) WITH ORDINALITY AS r \
         RETURNING revision",
        taken = postgres_taken(),
    );
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let numbered = txn.query_all_raw(statement).await?;
    let mut first = i64::MAX;
    for row in numbered {
        first = first.min(row.try_get::<i64>("", "revision")?);
    }
    Ok(Revision::from(first))
}

/// The CTE `taken(last)`: the last revision this PostgreSQL transaction
/// has numbered in either log, or the one before its block.
fn postgres_taken() -> String {
    let last_in = |table: &str| {
        format!(
            "(SELECT MAX(revision) FROM {table} \
              WHERE revision >= block.first AND revision < block.first + {BLOCK})"
        )
    };
    format!(
        "block AS (SELECT pg_current_xact_id()::text::bigint * {BLOCK} AS first), \
         taken AS (SELECT GREATEST(block.first - 1, {dids}, {sender_ids}) AS last FROM block)",
        dids = last_in("did_changes"),
        sender_ids = last_in("sender_id_changes"),
    )
}

/// How far readers may read, and how far history was purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    /// Every change up to here is committed for good: no change at or
    /// below it is still to come.
    pub head: Revision,
    /// The last change committed (above `head` only on PostgreSQL, while
    /// an older writer is still in flight).
    pub latest: Revision,
    /// Changes up to this revision may have been purged.
    pub compacted: Revision,
    /// History before this instant may have been purged.
    pub purged_before: Option<Timestamp>,
}

pub(super) async fn positions(db: &impl ConnectionTrait) -> Result<Positions, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT ({horizon}) * {BLOCK} - 1 AS head, {latest} AS latest, \
             z.revision AS compacted, z.purged_before \
             FROM history_horizon z WHERE z.id = 1",
            horizon = postgres_horizon(),
            latest = "GREATEST((SELECT MAX(revision) FROM did_changes), \
                      (SELECT MAX(revision) FROM sender_id_changes), 0)",
        ),
        _ => "SELECT h.revision AS head, h.revision AS latest, z.revision AS compacted, \
              z.purged_before FROM revision_head h CROSS JOIN history_horizon z \
              WHERE h.id = 1 AND z.id = 1"
            .to_owned(),
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the revision counter row".into()))?;
    let head = Revision::from(row.try_get::<i64>("", "head")?);
    Ok(Positions {
        head,
        latest: Ord::max(head, Revision::from(row.try_get::<i64>("", "latest")?)),
        compacted: Revision::from(row.try_get::<i64>("", "compacted")?),
        purged_before: row.try_get("", "purged_before")?,
    })
}

/// The transaction id whose block starts above the head: the oldest
/// writer's in flight, or the first not yet begun (the statement's
/// snapshot's xmax, taken before the lock table is read, so that a writer
/// that finishes meanwhile is either listed or below it). The lock table
/// lists 32-bit ids; each is widened beside the xmax, within 2^31 of it.
fn postgres_horizon() -> &'static str {
    "WITH s AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) \
     SELECT LEAST(s.xmax, MIN(s.xmax + ((x.transactionid::text::bigint - (s.xmax & 4294967295) \
       + 6442450944) % 4294967296) - 2147483648)) \
     FROM s LEFT JOIN (SELECT t.transactionid FROM pg_locks w JOIN pg_locks t ON t.pid = w.pid \
       WHERE w.locktype = 'relation' AND w.granted AND w.mode = 'RowExclusiveLock' \
       AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
       AND w.relation = 'revision_head'::regclass \
       AND t.locktype = 'transactionid' AND t.granted AND t.mode = 'ExclusiveLock') x ON true \
     GROUP BY s.xmax"
}

/// A read-only snapshot that holds exactly the changes up to the returned
/// revision, so that a watch from it misses nothing the snapshot lacks and
/// repeats nothing it holds. MariaDB and SQLite: the counter, read first
/// in the snapshot. PostgreSQL: the head read before the snapshot, if no
/// later change is in it; else the snapshot is taken while no writer is in
/// flight (it waits for those in flight, and new ones wait for it).
pub(super) async fn snapshot(store: &Store) -> Result<(DatabaseTransaction, Revision), DbErr> {
    if store.backend() != DbBackend::Postgres {
        let txn = store.begin_snapshot().await?;
        let head = positions(&txn).await?.head;
        return Ok((txn, head));
    }
    for _ in 0..2 {
        let head = positions(store.connection()?).await?.head;
        let txn = store.begin_snapshot().await?;
        if latest_visible(&txn).await? <= head {
            return Ok((txn, head));
        }
        txn.rollback().await?;
    }
    // No writer is in flight between the lock and its release: the
    // snapshot, taken at the first read after the lock (LOCK takes none),
    // holds every change there is. ROLLBACK TO releases the lock early and
    // keeps the snapshot.
    let txn = store.begin_repeatable_read().await?;
    txn.execute_unprepared("SAVEPOINT exact_snapshot; LOCK TABLE revision_head IN SHARE MODE")
        .await?;
    let latest = latest_visible(&txn).await?;
    txn.execute_unprepared(
        "ROLLBACK TO SAVEPOINT exact_snapshot; RELEASE SAVEPOINT exact_snapshot",
    )
    .await?;
    Ok((txn, latest))
}

/// The last change a PostgreSQL snapshot holds.
async fn latest_visible(txn: &DatabaseTransaction) -> Result<Revision, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT GREATEST((SELECT MAX(revision) FROM did_changes), \
             (SELECT MAX(revision) FROM sender_id_changes), 0) AS latest",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the latest change".into()))?;
    Ok(Revision::from(row.try_get::<i64>("", "latest")?))
}

/// Keeps the feed at the head until `stop`: read when a local write nudges
/// it, and every [`POLL`] while anyone watches, for other processes' writes.
pub async fn follow_changes(store: Store, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let feed: &Feed = store.feed();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            () = feed.nudged() => {}
            () = tokio::time::sleep(POLL) => {}
        }
        if !feed.watched() {
            continue;
        }
        match store.connection() {
            Ok(db) => match positions(db).await {
                Ok(positions) => feed.advance(positions.head),
                Err(error) => tracing::warn!(%error, "reading the head: retrying"),
            },
            Err(error) => tracing::debug!(%error, "reading the head: the database is down"),
        }
    }
}
