//! The connection pool of one database, of any supported engine: connecting,
//! migrating, readiness, and the transactions every call runs in.

use super::feed::Feed;
use migrations::Migrator;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, RuntimeErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The PostgreSQL advisory lock key of migrations ("numbernG" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6e75_6d62_6572_6e47;
/// The MariaDB named lock of migrations.
const MIGRATION_LOCK_NAME: &str = "numbering.migrations";

/// Connects. Switching a new SQLite file to WAL takes an exclusive lock that
/// SQLite's busy timeout does not wait for, so a second process opening the
/// file at that moment is refused "database is locked": it retries for as
/// long as the busy timeout would have waited.
async fn connect_waiting_for_wal(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    const PATIENCE: Duration = Duration::from_secs(5);
    let started = tokio::time::Instant::now();
    loop {
        match Database::connect(options.clone()).await {
            Err(error) if sqlite_busy(&error) && started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            connected => return connected,
        }
    }
}

fn sqlite_busy(error: &DbErr) -> bool {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(error)) => error
            .as_database_error()
            .is_some_and(|e| e.code().as_deref() == Some("5")),
        _ => false,
    }
}

/// The occupancy of the connection pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolStats {
    fn of<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> Self {
        Self {
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}

/// A pool of connections to one database, of any supported engine.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) db: DatabaseConnection,
    /// SQLite takes one writer at a time. Writers queue here, in order,
    /// rather than in SQLite's busy handler, which polls with sleeps.
    sqlite_writer: Option<Arc<Semaphore>>,
    /// What readiness last found. While the database is down, calls fail
    /// at once instead of each waiting out the pool's acquire timeout.
    up: Arc<AtomicBool>,
    /// Asks readiness to check the database now: a call found it gone.
    recheck: Arc<tokio::sync::Notify>,
    /// The last revision known committed, for watchers.
    pub(super) feed: Feed,
    /// Reads of the change log at once: a quarter of the pool, so that
    /// however many watchers wake at each commit, writes find connections.
    log_readers: Arc<Semaphore>,
}

impl Store {
    /// Opens a pool of at most `max_connections` connections, which logs
    /// the statements that take longer than `slow` (none if zero).
    pub async fn connect(url: &str, max_connections: u32, slow: Duration) -> Result<Self, DbErr> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(if in_memory { 1 } else { max_connections })
            // Only the slow statements: a plan that turns bad with the
            // data's shape shows here, with its SQL.
            .sqlx_logging(!slow.is_zero())
            .sqlx_logging_level(log::LevelFilter::Off)
            .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, slow)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            // WAL lets readers (and long `all_pages` snapshots) run beside a
            // writer; the busy timeout queues writers instead of failing them.
            .map_sqlx_sqlite_opts(|options| {
                options
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
            });
        let db = connect_waiting_for_wal(options).await?;
        let sqlite_writer =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Semaphore::new(1)));
        let feed = Feed::new(db.get_database_backend());
        Ok(Self {
            db,
            sqlite_writer,
            up: Arc::new(AtomicBool::new(true)),
            recheck: Arc::new(tokio::sync::Notify::new()),
            feed,
            log_readers: Arc::new(Semaphore::new((max_connections / 4).max(1) as usize)),
        })
    }

    /// Applies every pending migration, under a lock, so that replicas
    /// starting together against an empty database take turns: the first
    /// migrates, the others then find nothing to do. (MariaDB's DDL is not
    /// transactional, so a race there could leave half a schema.)
    ///
    /// On SQLite and PostgreSQL the migrations run in the transaction that
    /// holds the lock, all or none, on the one connection start-up has
    /// already opened (a new PostgreSQL connection costs a TLS handshake).
    pub async fn migrate(&self) -> Result<(), DbErr> {
        use sea_orm::ConnectionTrait;
        const WAIT: &str = "600"; // seconds: a long migration of a big table
        match self.backend() {
            DbBackend::Sqlite => {
                // The write lock of one IMMEDIATE transaction holds the others.
                let txn = self.begin_write().await?;
                Migrator::up(&txn, None).await?;
                txn.commit().await
            }
            DbBackend::Postgres => {
                let txn = self.db.begin().await?;
                txn.execute_unprepared(&format!("SET LOCAL lock_timeout = '{WAIT}s'"))
                    .await?;
                txn.execute_unprepared(&format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .await?;
                Migrator::up(&txn, None).await?;
                txn.commit().await
            }
            backend => {
                // A named lock belongs to a session: a transaction pins one
                // connection, which holds it while the migrations run on
                // others (DDL commits as it goes on MariaDB).
                let lock = self.db.begin().await?;
                let row = lock
                    .query_one_raw(sea_orm::Statement::from_string(
                        backend,
                        format!("SELECT GET_LOCK('{MIGRATION_LOCK_NAME}', {WAIT}) AS taken"),
                    ))
                    .await?;
                let taken = row
                    .and_then(|row| row.try_get::<Option<i64>>("", "taken").ok().flatten())
                    == Some(1);
                if !taken {
                    return Err(DbErr::Migration(format!(
                        "another process held the migration lock for {WAIT} s"
                    )));
                }
                let migrated = Migrator::up(&self.db, None).await;
                lock.execute_unprepared(&format!("DO RELEASE_LOCK('{MIGRATION_LOCK_NAME}')"))
                    .await?;
                lock.commit().await?;
                migrated
            }
        }
    }

    /// Asks the database itself, whatever readiness last found.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }

    /// Records what readiness found: calls fail fast while it is `false`.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
    }

    /// A call could not reach the database: readiness checks at once rather
    /// than at its next tick, so that other calls do not each wait out the
    /// pool's timeouts meanwhile. A lost connection is the database gone,
    /// and calls fail fast from now on; a pool that timed out may only be
    /// busy, so the check decides.
    pub fn report_failure(&self, error: &DbErr) {
        use sea_orm::error::ConnAcquireErr;
        if !matches!(error, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) {
            self.set_up(false);
        }
        self.recheck.notify_one();
    }

    /// Completes when a call has reported the database gone.
    pub async fn recheck_requested(&self) {
        self.recheck.notified().await;
    }

    /// Closes the pool, waiting a few seconds at most for connections in
    /// use: a connection left mid-reply would otherwise hold the exit forever.
    pub async fn close(self) -> Result<(), DbErr> {
        const PATIENCE: Duration = Duration::from_secs(5);
        match tokio::time::timeout(PATIENCE, self.db.close()).await {
            Ok(closed) => closed,
            Err(_) => {
                tracing::warn!(patience = ?PATIENCE, "database connections still busy: leaving them");
                Ok(())
            }
        }
    }

    /// How many connections the pool holds, how many of them are idle, and
    /// how many it may open.
    pub fn pool_stats(&self) -> PoolStats {
        match self.backend() {
            DbBackend::Postgres => PoolStats::of(self.db.get_postgres_connection_pool()),
            DbBackend::MySql => PoolStats::of(self.db.get_mysql_connection_pool()),
            DbBackend::Sqlite => PoolStats::of(self.db.get_sqlite_connection_pool()),
            _ => PoolStats::default(),
        }
    }

    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Runs `work` on a clone of this store, to its end: a client that
    /// cancels its RPC drops the handler, and a database call dropped
    /// halfway leaves its pooled connection mid-reply (sqlx then waits
    /// forever to test it before reuse).
    pub(super) async fn detached<T, F>(
        &self,
        work: impl FnOnce(Self) -> F,
    ) -> crate::error::Result<T>
    where
        T: Send + 'static,
        F: Future<Output = crate::error::Result<T>> + Send + 'static,
    {
        use tracing::Instrument;
        let result = tokio::spawn(work(self.clone()).in_current_span())
            .await
            .map_err(|e| {
                crate::error::Error::internal(format!("the database call did not finish: {e}"))
            })?;
        if let Err(crate::error::Error::Unavailable(cause)) = &result {
            self.report_failure(cause);
        }
        result
    }

    /// The pool, unless readiness has found the database down.
    pub(super) fn connection(&self) -> Result<&DatabaseConnection, DbErr> {
        if self.up.load(Ordering::Relaxed) {
            Ok(&self.db)
        } else {
            Err(DbErr::Conn(RuntimeErr::Internal(
                "the database did not answer the last readiness check".into(),
            )))
        }
    }

    /// A place among the change log's readers; hold it for the read.
    pub(super) async fn log_reader(&self) -> Option<OwnedSemaphorePermit> {
        self.log_readers.clone().acquire_owned().await.ok()
    }

    /// The right to write, on engines that take one writer at a time; hold
    /// it until the write is committed.
    pub(super) async fn writer(&self) -> Option<OwnedSemaphorePermit> {
        match &self.sqlite_writer {
            Some(gate) => gate.clone().acquire_owned().await.ok(),
            None => None,
        }
    }

    /// A transaction that writes. On SQLite it takes the write lock at once,
    /// so that a read inside it is never upgraded (and refused) later.
    pub(super) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let sqlite = self.backend() == DbBackend::Sqlite;
        self.connection()?
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
    }

    /// A repeatable-read transaction that may take locks (PostgreSQL).
    pub(super) async fn begin_repeatable_read(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            ..TransactionOptions::default()
        };
        self.connection()?.begin_with_options(options).await
    }

    /// A read-only transaction in which every read sees the same snapshot.
    /// SQLite in WAL mode gives a deferred read transaction that already.
    pub(super) async fn begin_snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = match self.backend() {
            DbBackend::Sqlite => TransactionOptions::default(),
            _ => TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                ..TransactionOptions::default()
            },
        };
        self.connection()?.begin_with_options(options).await
    }
}
