//! Database errors by what the caller can do about them: wait for the
//! database (UNAVAILABLE), retry at once (ABORTED), or nothing (INTERNAL).

use super::Error;
use sea_orm::DbErr;

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        match classify(&error) {
            DbFailure::Unreachable => Error::Unavailable(error),
            DbFailure::Contention => Error::Aborted(error),
            DbFailure::Other => Error::internal(error),
        }
    }
}

enum DbFailure {
    /// The database cannot be reached: the caller may retry later.
    Unreachable,
    /// A deadlock, serialization failure or busy SQLite file: the caller may
    /// retry at once.
    Contention,
    Other,
}

fn classify(error: &DbErr) -> DbFailure {
    use sea_orm::{RuntimeErr, sqlx};
    let sqlx_error = match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => return DbFailure::Unreachable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return DbFailure::Other,
    };
    match sqlx_error.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DbFailure::Unreachable,
        // SQLSTATE 40001 (serialization failure; MariaDB's deadlock too),
        // 40P01 (PostgreSQL deadlock); SQLite 5 and 6 (busy, locked).
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some("40001" | "40P01" | "5" | "6")) =>
        {
            DbFailure::Contention
        }
        _ => DbFailure::Other,
    }
}
