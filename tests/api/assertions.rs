use std::fmt::Debug;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The call failed with `code` and an `ErrorInfo` of `reason`.
pub fn expect_error<T: Debug>(result: Result<T, Status>, code: Code, reason: &str) -> Status {
    let status = result.expect_err("the call should fail");
    assert_eq!(status.code(), code, "{status:?}");
    let details = status.get_error_details();
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(
        (info.domain.as_str(), info.reason.as_str()),
        ("numbering", reason),
        "{status:?}"
    );
    status
}

/// The call failed as INVALID_ARGUMENT naming `field`, in the message and in
/// a `BadRequest` field violation.
pub fn expect_invalid<T: Debug>(result: Result<T, Status>, field: &str) {
    let status = expect_error(result, Code::InvalidArgument, "INVALID_FIELD");
    assert!(
        status.message().starts_with(&format!("{field}:")),
        "{status:?}"
    );
    let details = status.get_error_details();
    let violations = &details
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations;
    assert_eq!(violations[0].field, field, "{status:?}");
}

/// Whether timestamp `a` is strictly after `b`.
pub fn is_after(a: &Option<prost_types::Timestamp>, b: &Option<prost_types::Timestamp>) -> bool {
    let key = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .map(|t| (t.seconds, t.nanos))
            .expect("a timestamp")
    };
    key(a) > key(b)
}
