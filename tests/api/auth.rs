//! Caller identity from the trusted headers.

use crate::assertions::expect_error;
use crate::helpers::{Engine, TestApp};
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use tonic::{Code, Request};

fn get_with(metadata: &[(&'static str, &'static str)]) -> Request<pb::GetDidRequest> {
    let mut request = Request::new(pb::GetDidRequest {
        id: uuid::Uuid::now_v7().to_string(),
    });
    for (key, value) in metadata {
        request.metadata_mut().insert(*key, value.parse().unwrap());
    }
    request
}

const USER: &str = "0195d7a0-0000-7000-8000-000000000001";

async fn calls_without_a_valid_identity_are_unauthenticated_impl(app: &TestApp) {
    let mut client = DidServiceClient::new(app.channel.clone());
    let cases: &[(&[(&'static str, &'static str)], &str)] = &[
        (&[], "MISSING_IDENTITY"),
        (&[("x-role", "admin")], "MISSING_IDENTITY"),
        (&[("x-user-id", USER)], "MISSING_IDENTITY"),
        (
            &[("x-user-id", "root"), ("x-role", "admin")],
            "INVALID_IDENTITY",
        ),
        (
            &[("x-user-id", USER), ("x-role", "superuser")],
            "INVALID_IDENTITY",
        ),
        (
            &[("x-user-id", USER), ("x-role", "reseller")],
            "INVALID_IDENTITY",
        ),
        (
            &[
                ("x-user-id", USER),
                ("x-role", "admin"),
                ("x-organization-id", "acme"),
            ],
            "INVALID_IDENTITY",
        ),
    ];
    for (metadata, reason) in cases {
        let status = expect_error(
            client.get_did(get_with(metadata)).await,
            Code::Unauthenticated,
            reason,
        );
        assert!(!status.message().is_empty());
    }
    // Two values of one identity header: a gateway that appends its header
    // to the client's must not let the client choose who it is.
    let duplicates: &[(&'static str, &'static str, &'static str)] = &[
        ("x-role", "admin", "reseller"),
        ("x-user-id", USER, "0195d7a0-0000-7000-8000-000000000002"),
        (
            "x-organization-id",
            "0195d7a0-0000-7000-8000-0000000000aa",
            "0195d7a0-0000-7000-8000-0000000000bb",
        ),
    ];
    for (key, first, second) in duplicates {
        let mut request = get_with(&[("x-user-id", USER), ("x-role", "reseller")]);
        let metadata = request.metadata_mut();
        metadata.insert(
            "x-organization-id",
            "0195d7a0-0000-7000-8000-0000000000aa".parse().unwrap(),
        );
        metadata.insert(*key, first.parse().unwrap());
        metadata.append(*key, second.parse().unwrap());
        let status = expect_error(
            client.get_did(request).await,
            Code::Unauthenticated,
            "INVALID_IDENTITY",
        );
        assert!(status.message().contains(key), "{status:?}");
    }
    // A valid identity gets through to the handler.
    let known = client
        .get_did(get_with(&[("x-user-id", USER), ("x-role", "accountant")]))
        .await;
    expect_error(known, Code::NotFound, "DID_NOT_FOUND");
}

async fn calls_without_a_valid_identity_are_unauthenticated(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    calls_without_a_valid_identity_are_unauthenticated_impl(&app).await;
    app.stop().await;
}

crate::for_every_engine!(calls_without_a_valid_identity_are_unauthenticated);
