//! Graceful shutdown: calls in flight finish, new ones are refused.

use crate::helpers::{Binary, Engine, Identity, TestApp, narrow_channel, seed_bulky_dids};
use crate::resources::{Dids, ListParams, Resource, Samples};
use tonic::transport::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_in_flight_completes_and_later_calls_are_refused() {
    let mut app = TestApp::spawn(Engine::Sqlite).await;
    let api = Dids::new(&app);
    for n in 1..=3 {
        api.seed(n, "MA").await;
    }
    let every_page = ListParams {
        limit: 1,
        all_pages: true,
        sort_by: 1,
        sort_order: 1,
        ..ListParams::default()
    };
    let mut stream = api
        .list_stream(&Identity::admin(), every_page)
        .await
        .unwrap();
    let first = stream.next_page().await.unwrap().unwrap();
    let address = app.address;

    app.begin_shutdown();

    let rest = stream
        .collect()
        .await
        .expect("the stream in flight completes");
    let pages: Vec<_> = std::iter::once(first)
        .chain(rest)
        .map(|page| page.data[0].value.clone())
        .collect();
    assert_eq!(pages, (1..=3).map(Dids::value).collect::<Vec<_>>());
    app.stop().await;
    let refused = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after shutdown"
    );
}

/// The real signal to the real binary: readiness turns NOT_SERVING at once
/// (seen on a Watch opened before), a stream in progress completes, the
/// process exits cleanly, and new connections are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_the_binary_drains_then_exits() {
    use numbering::proto::v1::ListDidsRequest;
    use numbering::proto::v1::did_service_client::DidServiceClient;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let mut server = Binary::start(
        &["--auth", "trusted-headers", "--shutdown-grace", "20s"],
        &[],
    );
    // A stream larger than HTTP/2 buffers stays in flight (see the helpers).
    const ITEMS: u32 = 1500;
    let channel = narrow_channel(server.address);
    seed_bulky_dids(channel.clone(), ITEMS).await;
    let mut dids = DidServiceClient::new(channel.clone());
    let admin = Identity::admin();
    let mut readiness = HealthClient::new(channel)
        .watch(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        readiness.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );
    let mut pages = dids
        .list_dids(admin.request(ListDidsRequest {
            limit: 100,
            all_pages: true,
            ..ListDidsRequest::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(pages.message().await.unwrap().is_some());
    let in_flight =
        r#"grpc_server_in_flight{grpc_service="numbering.v1.DidService",grpc_method="ListDids"}"#;
    let metrics = crate::observability::scrape(server.metrics.unwrap()).await;
    assert_eq!(crate::observability::sample(&metrics, in_flight), Some(1.0));

    server.send_sigterm();

    assert_eq!(
        readiness.message().await.unwrap().unwrap().status(),
        ServingStatus::NotServing
    );
    drop(readiness);
    let mut rest = 0;
    while let Some(page) = pages.message().await.expect("the stream completes") {
        rest += page.data.len();
    }
    assert_eq!(rest, ITEMS as usize - 100);
    let started = std::time::Instant::now();
    assert!(server.wait(), "exit status 0");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "nothing was left open, so the drain did not wait out its grace"
    );
    let refused = Channel::from_shared(format!("http://{}", server.address))
        .unwrap()
        .connect()
        .await;
    assert!(refused.is_err(), "a new connection was accepted after exit");
}
