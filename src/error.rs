//! The one error type of the service, and its one mapping to `tonic::Status`.
//!
//! Every status carries a `google.rpc.ErrorInfo` (domain `numbering`, an
//! UPPER_SNAKE reason clients can branch on); invalid input also carries a
//! `google.rpc.BadRequest` naming the field. Internal causes are logged here,
//! never sent.

use crate::domain::Invalid;
use sea_orm::DbErr;
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo` domain of every error this service returns.
pub const ERROR_DOMAIN: &str = "numbering";

/// Stable `ErrorInfo` reasons that are not tied to one resource kind.
pub mod reason {
    pub const INVALID_FIELD: &str = "INVALID_FIELD";
    pub const ALREADY_ASSIGNED: &str = "ALREADY_ASSIGNED";
    pub const MISSING_IDENTITY: &str = "MISSING_IDENTITY";
    pub const INVALID_IDENTITY: &str = "INVALID_IDENTITY";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const ROLE_FORBIDDEN: &str = "ROLE_FORBIDDEN";
    pub const ORGANIZATION_FORBIDDEN: &str = "ORGANIZATION_FORBIDDEN";
    pub const SCOPE_MISSING: &str = "SCOPE_MISSING";
    pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
    pub const CONCURRENT_WRITE: &str = "CONCURRENT_WRITE";
    pub const DEADLINE_EXCEEDED: &str = "DEADLINE_EXCEEDED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const MALFORMED_REQUEST: &str = "MALFORMED_REQUEST";
    pub const MESSAGE_TOO_LARGE: &str = "MESSAGE_TOO_LARGE";
    pub const METADATA_TOO_LARGE: &str = "METADATA_TOO_LARGE";
    pub const TOO_MANY_STREAMS: &str = "TOO_MANY_STREAMS";
    pub const TOO_MANY_CALLS: &str = "TOO_MANY_CALLS";
    pub const STREAM_STALLED: &str = "STREAM_STALLED";
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {rule}")]
    InvalidField { field: String, rule: Invalid },
    /// The request's bytes are not a valid message of its type: invalid
    /// UTF-8, a truncated message, a bad tag or wire type. `field` is the
    /// path prost names, when it names one.
    #[error("malformed request: {detail}")]
    Malformed {
        field: Option<String>,
        detail: String,
    },
    #[error("{message}")]
    ResourceExhausted {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    NotFound {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    Unauthenticated {
        reason: &'static str,
        message: String,
    },
    #[error("{message}")]
    PermissionDenied {
        reason: &'static str,
        message: String,
    },
    #[error("the deadline passed before the call completed")]
    DeadlineExceeded,
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("the write collided with another one: retry it")]
    Aborted(#[source] DbErr),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: impl Into<String>, rule: Invalid) -> Self {
        Error::InvalidField {
            field: field.into(),
            rule,
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(cause.into())
    }

    fn code_and_reason(&self) -> (Code, &'static str) {
        match self {
            Error::InvalidField { .. } => (Code::InvalidArgument, reason::INVALID_FIELD),
            Error::Malformed { .. } => (Code::InvalidArgument, reason::MALFORMED_REQUEST),
            Error::ResourceExhausted { reason, .. } => (Code::ResourceExhausted, reason),
            Error::NotFound { reason, .. } => (Code::NotFound, reason),
            Error::AlreadyExists { reason, .. } => (Code::AlreadyExists, reason),
            Error::FailedPrecondition { reason, .. } => (Code::FailedPrecondition, reason),
            Error::Unauthenticated { reason, .. } => (Code::Unauthenticated, reason),
            Error::PermissionDenied { reason, .. } => (Code::PermissionDenied, reason),
            Error::DeadlineExceeded => (Code::DeadlineExceeded, reason::DEADLINE_EXCEEDED),
            Error::Unavailable(_) => (Code::Unavailable, reason::DATABASE_UNAVAILABLE),
            Error::Aborted(_) => (Code::Aborted, reason::CONCURRENT_WRITE),
            Error::Internal(_) => (Code::Internal, reason::INTERNAL),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let (code, reason) = error.code_and_reason();
        let mut metadata = HashMap::new();
        let mut details = ErrorDetails::new();
        match &error {
            Error::InvalidField { field, rule } => {
                metadata.insert("field".to_owned(), field.clone());
                details.add_bad_request_violation(field.clone(), rule.to_string());
            }
            Error::Malformed {
                field: Some(field),
                detail,
            } => {
                metadata.insert("field".to_owned(), field.clone());
                details.add_bad_request_violation(field.clone(), detail.clone());
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            Error::Aborted(cause) => {
                tracing::warn!(error = %cause, "write aborted by contention");
            }
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
            }
            _ => {}
        }
        details.set_error_info(reason, ERROR_DOMAIN, metadata);
        Status::with_error_details(code, error.to_string(), details)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_names_the_field_in_the_details() {
        let status = Status::from(Error::invalid("country", Invalid::new("bad")));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "country: bad");
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "country");
        let info = details.error_info().unwrap();
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            (reason::INVALID_FIELD, ERROR_DOMAIN)
        );
    }

    #[test]
    fn database_failures_map_to_retryable_codes() {
        use sea_orm::{RuntimeErr, sqlx};
        use std::sync::Arc;
        let query_error = |e: sqlx::Error| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)));
        let cases = [
            (query_error(sqlx::Error::PoolTimedOut), Code::Unavailable),
            (
                query_error(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
                Code::Unavailable,
            ),
            (query_error(sqlx::Error::RowNotFound), Code::Internal),
            (DbErr::Custom("bug".into()), Code::Internal),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(Error::from(error)).code(), code);
        }
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let status = Status::from(Error::internal("password=hunter2 in the DSN"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
