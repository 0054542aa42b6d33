//! The mapping of errors to statuses, as a client sees it.

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
