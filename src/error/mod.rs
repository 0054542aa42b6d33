//! The one error type of the service, and its one mapping to `tonic::Status`.
//!
//! Every status carries a `google.rpc.ErrorInfo` (domain `numbering`, an
//! UPPER_SNAKE reason clients can branch on); invalid input also carries a
//! `google.rpc.BadRequest` naming the field. Internal causes are logged here,
//! never sent.

mod database;

use crate::domain::{CountryCode, Invalid, Resource, Revision, Timestamp};
use sea_orm::DbErr;
use std::collections::HashMap;
use std::time::Duration;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo` domain of every error this service returns.
pub const ERROR_DOMAIN: &str = "numbering";

/// Stable `ErrorInfo` reasons, each given by the one match below.
pub mod reason {
    pub const INVALID_FIELD: &str = "INVALID_FIELD";
    pub const INVALID_PAGE_TOKEN: &str = "INVALID_PAGE_TOKEN";
    pub const DID_NOT_FOUND: &str = "DID_NOT_FOUND";
    pub const SENDER_ID_NOT_FOUND: &str = "SENDER_ID_NOT_FOUND";
    pub const DID_NUMBER_TAKEN: &str = "DID_NUMBER_TAKEN";
    pub const SENDER_ID_TAKEN: &str = "SENDER_ID_TAKEN";
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
    pub const ETAG_MISMATCH: &str = "ETAG_MISMATCH";
    pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";
    pub const REVISION_COMPACTED: &str = "REVISION_COMPACTED";
    pub const REVISION_AHEAD: &str = "REVISION_AHEAD";
    pub const HISTORY_PURGED: &str = "HISTORY_PURGED";
    pub const NOT_AVAILABLE: &str = "NOT_AVAILABLE";
    pub const HELD: &str = "HELD";
    pub const HOLD_LIMIT_REACHED: &str = "HOLD_LIMIT_REACHED";
    pub const NOT_ENOUGH_AVAILABLE: &str = "NOT_ENOUGH_AVAILABLE";
    pub const NOT_DELETED: &str = "NOT_DELETED";
    pub const BATCH_ABORTED: &str = "BATCH_ABORTED";
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, by meaning. Call sites say what happened; only
/// [`Error::code_and_reason`] says what the client is told.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The request itself.
    /// A bad field, and any other bad fields of the same request (each
    /// named in the `BadRequest` detail).
    #[error("{field}: {rule}{}", others(.also))]
    InvalidField {
        field: String,
        rule: Invalid,
        also: Vec<(String, Invalid)>,
    },
    /// The request's bytes are not a valid message of its type: invalid
    /// UTF-8, a truncated message, a bad tag or wire type. `field` is the
    /// path prost names, when it names one.
    #[error("malformed request: {detail}")]
    Malformed {
        field: Option<String>,
        detail: String,
    },
    #[error("{0}")]
    MessageTooLarge(String),
    /// A page token that is not one of ours, or comes with a request other
    /// than the one that gave it.
    #[error("page_token: {0}")]
    InvalidPageToken(Invalid),
    #[error("the request metadata is {size} bytes; the limit is {limit}")]
    MetadataTooLarge { size: usize, limit: usize },

    // Who is calling.
    #[error("{0}")]
    MissingIdentity(String),
    #[error("{0}")]
    InvalidIdentity(String),
    #[error("{0}")]
    InvalidToken(String),

    // What the caller may do.
    #[error("{0}")]
    RoleForbidden(String),
    #[error("organization_id: a reseller may name only its own organization")]
    OrganizationForbidden,
    #[error("the token lacks the {scope} scope")]
    ScopeMissing { scope: String },

    // What the inventory answers.
    #[error("{} not found", .0.label())]
    NotFound(Resource),
    #[error("{}", taken_message(*.resource, .value, .country))]
    Taken {
        resource: Resource,
        value: String,
        country: CountryCode,
    },
    #[error("the {} is assigned to another organization: unassign it first", .0.label())]
    AlreadyAssigned(Resource),
    #[error(
        "the {} cannot be held now: it is not active and shared, or it rests, or another \
         organization holds it",
        .0.label()
    )]
    NotAvailable(Resource),
    #[error("the {} is held for another organization", .0.label())]
    Held(Resource),
    #[error("the organization has {limit} live holds, its limit: release one or let it expire")]
    HoldLimitReached { limit: u32 },
    #[error("count: only {available} {} can be allocated now", .resource.label())]
    NotEnoughAvailable { resource: Resource, available: u64 },
    #[error("the {} is not deleted", .0.label())]
    NotDeleted(Resource),
    #[error("another row of this atomic batch failed: nothing of the batch was written")]
    BatchAborted,
    #[error("etag: the {} has changed since: read it again", .0.label())]
    EtagMismatch(Resource),
    #[error("request_id: already used for another request")]
    RequestIdReused,
    #[error(
        "start_revision: revisions up to {} have been compacted: list again, then watch from \
         the list's revision",
        .horizon.get()
    )]
    RevisionCompacted { horizon: Revision },
    #[error(
        "start_revision: the change log has reached revision {} only: watch from a revision \
         this service gave (a list's or a watch's), or list again",
        .head.get()
    )]
    RevisionAhead { head: Revision },
    #[error(
        "time: history before {} has been purged",
        .before.as_datetime().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )]
    HistoryPurged { before: Timestamp },

    // How much the server takes on.
    #[error("the server has {limit} calls open, its limit: retry with backoff")]
    TooManyCalls { limit: usize },
    #[error(
        "this caller has {limit} calls open, its limit: finish or cancel one first (a \
         response not taken within the call time limit stops counting then)"
    )]
    TooManyCallerCalls { limit: usize },
    #[error("{0}")]
    TooManyStreams(String),
    #[error(
        "the client took no page for {after:?}: the stream was ended to free its database \
         connection; read faster, or resume after the last item received"
    )]
    StreamStalled { after: Duration },
    #[error("the deadline passed before the call completed")]
    DeadlineExceeded,

    // The database, and the service itself.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("the write collided with another one: retry it")]
    Aborted(#[source] DbErr),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn taken_message(resource: Resource, value: &str, country: &CountryCode) -> String {
    let label = resource.label();
    if resource.unique_per_country() {
        format!("{label} {value} is already in use in {}", country.as_str())
    } else {
        format!("{label} {value} is already in use")
    }
}

impl Error {
    pub fn invalid(field: impl Into<String>, rule: Invalid) -> Self {
        Error::InvalidField {
            field: field.into(),
            rule,
            also: Vec::new(),
        }
    }

    /// The two errors of one request as one: every bad field named, the
    /// first first. Of other errors, the first is the answer.
    pub fn and(self, next: Error) -> Error {
        match (self, next) {
            (
                Error::InvalidField {
                    field,
                    rule,
                    mut also,
                },
                Error::InvalidField {
                    field: next_field,
                    rule: next_rule,
                    also: next_also,
                },
            ) => {
                also.push((next_field, next_rule));
                also.extend(next_also);
                Error::InvalidField { field, rule, also }
            }
            (first, _) => first,
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(cause.into())
    }

    /// The one place that says what each error is on the wire.
    fn code_and_reason(&self) -> (Code, &'static str) {
        use Resource::{Did, SenderId};
        match self {
            Error::InvalidField { .. } => (Code::InvalidArgument, reason::INVALID_FIELD),
            Error::Malformed { .. } => (Code::InvalidArgument, reason::MALFORMED_REQUEST),
            Error::MessageTooLarge(_) => (Code::ResourceExhausted, reason::MESSAGE_TOO_LARGE),
            Error::InvalidPageToken(_) => (Code::InvalidArgument, reason::INVALID_PAGE_TOKEN),
            Error::MetadataTooLarge { .. } => (Code::ResourceExhausted, reason::METADATA_TOO_LARGE),
            Error::MissingIdentity(_) => (Code::Unauthenticated, reason::MISSING_IDENTITY),
            Error::InvalidIdentity(_) => (Code::Unauthenticated, reason::INVALID_IDENTITY),
            Error::InvalidToken(_) => (Code::Unauthenticated, reason::INVALID_TOKEN),
            Error::RoleForbidden(_) => (Code::PermissionDenied, reason::ROLE_FORBIDDEN),
            Error::OrganizationForbidden => {
                (Code::PermissionDenied, reason::ORGANIZATION_FORBIDDEN)
            }
            Error::ScopeMissing { .. } => (Code::PermissionDenied, reason::SCOPE_MISSING),
            Error::NotFound(Did) => (Code::NotFound, reason::DID_NOT_FOUND),
            Error::NotFound(SenderId) => (Code::NotFound, reason::SENDER_ID_NOT_FOUND),
            Error::Taken { resource: Did, .. } => (Code::AlreadyExists, reason::DID_NUMBER_TAKEN),
            Error::Taken {
                resource: SenderId, ..
            } => (Code::AlreadyExists, reason::SENDER_ID_TAKEN),
            Error::AlreadyAssigned(_) => (Code::FailedPrecondition, reason::ALREADY_ASSIGNED),
            Error::NotAvailable(_) => (Code::FailedPrecondition, reason::NOT_AVAILABLE),
            Error::Held(_) => (Code::FailedPrecondition, reason::HELD),
            Error::HoldLimitReached { .. } => (Code::ResourceExhausted, reason::HOLD_LIMIT_REACHED),
            Error::NotEnoughAvailable { .. } => {
                (Code::FailedPrecondition, reason::NOT_ENOUGH_AVAILABLE)
            }
            Error::NotDeleted(_) => (Code::AlreadyExists, reason::NOT_DELETED),
            Error::BatchAborted => (Code::Aborted, reason::BATCH_ABORTED),
            Error::EtagMismatch(_) => (Code::FailedPrecondition, reason::ETAG_MISMATCH),
            Error::RequestIdReused => (Code::InvalidArgument, reason::REQUEST_ID_REUSED),
            Error::RevisionCompacted { .. } => (Code::OutOfRange, reason::REVISION_COMPACTED),
            Error::RevisionAhead { .. } => (Code::OutOfRange, reason::REVISION_AHEAD),
            Error::HistoryPurged { .. } => (Code::OutOfRange, reason::HISTORY_PURGED),
            Error::TooManyCalls { .. } | Error::TooManyCallerCalls { .. } => {
                (Code::ResourceExhausted, reason::TOO_MANY_CALLS)
            }
            Error::TooManyStreams(_) => (Code::ResourceExhausted, reason::TOO_MANY_STREAMS),
            Error::StreamStalled { .. } => (Code::ResourceExhausted, reason::STREAM_STALLED),
            Error::DeadlineExceeded => (Code::DeadlineExceeded, reason::DEADLINE_EXCEEDED),
            Error::Unavailable(_) => (Code::Unavailable, reason::DATABASE_UNAVAILABLE),
            Error::Aborted(_) => (Code::Aborted, reason::CONCURRENT_WRITE),
            Error::Internal(_) => (Code::Internal, reason::INTERNAL),
        }
    }
}

/// The other bad fields of a request, after the first, in a message.
fn others(also: &[(String, Invalid)]) -> String {
    also.iter()
        .map(|(field, rule)| format!("; {field}: {rule}"))
        .collect()
}

/// An error as one row of an import reports it: what that row's own call
/// would have been told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The status code's name, as gRPC spells it (`ALREADY_EXISTS`).
    pub code: &'static str,
    pub reason: &'static str,
    pub field: Option<String>,
    pub message: String,
}

impl Error {
    pub fn for_row(&self, value_field: &'static str) -> RowError {
        let (code, reason) = self.code_and_reason();
        let field = match self {
            Error::InvalidField { field, .. } => Some(field.clone()),
            Error::Malformed { field, .. } => field.clone(),
            Error::RequestIdReused => Some("request_id".to_owned()),
            Error::Taken { .. } => Some(value_field.to_owned()),
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in an import row");
                None
            }
            _ => None,
        };
        RowError {
            code: code_name(code),
            reason,
            field,
            message: self.to_string(),
        }
    }
}

/// A status code's name as the gRPC spec spells it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let (code, reason) = error.code_and_reason();
        let mut metadata = HashMap::new();
        let mut details = ErrorDetails::new();
        match &error {
            Error::InvalidField { field, rule, also } => {
                metadata.insert("field".to_owned(), field.clone());
                details.add_bad_request_violation(field.clone(), rule.to_string());
                for (field, rule) in also {
                    details.add_bad_request_violation(field.clone(), rule.to_string());
                }
            }
            Error::InvalidPageToken(rule) => {
                metadata.insert("field".to_owned(), "page_token".to_owned());
                details.add_bad_request_violation("page_token", rule.to_string());
            }
            Error::Malformed {
                field: Some(field),
                detail,
            } => {
                metadata.insert("field".to_owned(), field.clone());
                details.add_bad_request_violation(field.clone(), detail.clone());
            }
            Error::RequestIdReused => {
                metadata.insert("field".to_owned(), "request_id".to_owned());
                details.add_bad_request_violation("request_id", error.to_string());
            }
            Error::NotEnoughAvailable { available, .. } => {
                metadata.insert("available".to_owned(), available.to_string());
            }
            Error::RevisionCompacted { horizon } => {
                metadata.insert("compacted_revision".to_owned(), horizon.get().to_string());
            }
            Error::RevisionAhead { head } => {
                metadata.insert("head_revision".to_owned(), head.get().to_string());
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

#[cfg(test)]
mod tests;
