//! Health and reflection, on the same port, without identity.

use crate::helpers::{Engine, TestApp};
use futures::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

async fn health_reports_serving_for_every_name_impl(app: &TestApp) {
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "numbering.v1.DidService",
        "numbering.v1.SenderIdService",
        "liveness",
    ] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap();
        assert_eq!(
            response.into_inner().status(),
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope".into(),
        })
        .await;
    assert_eq!(unknown.unwrap_err().code(), tonic::Code::NotFound);
}

/// The health protocol: `Watch` of a name the server does not know sends
/// SERVICE_UNKNOWN and stays open (a client waits there for the name to
/// appear), where `Check` says NOT_FOUND.
#[tokio::test]
async fn watching_an_unknown_name_streams_service_unknown_and_stays_open() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut health = HealthClient::new(app.channel.clone());
    let mut statuses = health
        .watch(HealthCheckRequest {
            service: "nope".into(),
        })
        .await
        .expect("the watch is accepted")
        .into_inner();
    let first = statuses.next().await.expect("a status").unwrap();
    assert_eq!(first.status(), ServingStatus::ServiceUnknown);
    let more = tokio::time::timeout(std::time::Duration::from_millis(500), statuses.next()).await;
    assert!(more.is_err(), "the watch ended or sent again: {more:?}");
    drop(statuses);
    app.stop().await;
}

/// gzip both ways: a compressed request is read, and a client that accepts
/// gzip gets compressed answers (health, reflection and both services).
#[tokio::test]
async fn gzip_requests_are_accepted_and_answers_compressed_when_asked() {
    use crate::helpers::Identity;
    use numbering::proto::v1::CreateDidRequest;
    use numbering::proto::v1::did_service_client::DidServiceClient;
    use tonic::codec::CompressionEncoding::Gzip;
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut dids = DidServiceClient::new(app.channel.clone())
        .send_compressed(Gzip)
        .accept_compressed(Gzip);
    let request = Identity::admin().request(CreateDidRequest {
        number: "212500000001".into(),
        country: "MA".into(),
        ..CreateDidRequest::default()
    });
    let created = dids.create_did(request).await.expect("a gzip request");
    assert_eq!(
        created
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(created.into_inner().did.unwrap().number, "212500000001");

    let mut health = HealthClient::new(app.channel.clone())
        .send_compressed(Gzip)
        .accept_compressed(Gzip);
    let checked = health
        .check(HealthCheckRequest::default())
        .await
        .expect("a gzip health check");
    assert_eq!(checked.into_inner().status(), ServingStatus::Serving);
    app.stop().await;
}

/// Health does not depend on the engine: it runs once, on SQLite.
#[tokio::test]
async fn health_reports_serving_for_every_name() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    health_reports_serving_for_every_name_impl(&app).await;
    app.stop().await;
}

/// The services that reflection `version` (`v1`, `v1alpha`) lists.
macro_rules! reflected_services {
    ($channel:expr, $version:ident) => {{
        use tonic_reflection::pb::$version::ServerReflectionRequest;
        use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new($channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        match responses.next().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("{} did not list services: {other:?}", stringify!($version)),
        }
    }};
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_both_services() {
    let app = TestApp::spawn(Engine::Sqlite).await;

    let v1 = reflected_services!(app.channel.clone(), v1);
    let v1alpha = reflected_services!(app.channel.clone(), v1alpha);

    for names in [v1, v1alpha] {
        for service in [
            "numbering.v1.DidService",
            "numbering.v1.SenderIdService",
            "grpc.health.v1.Health",
        ] {
            assert!(
                names.iter().any(|n| n == service),
                "{service} missing from {names:?}"
            );
        }
    }
    app.stop().await;
}
