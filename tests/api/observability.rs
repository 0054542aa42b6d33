//! What the people on call see: request ids, Prometheus metrics, JSON logs.

use crate::helpers::{Binary, Engine, Identity, TestApp};
use crate::resources::{Dids, ListParams, Resource, WatchParams};
use numbering::proto::v1::GetDidRequest;
use numbering::proto::v1::did_service_client::DidServiceClient;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const UNKNOWN_ID: &str = "0190b3c2-0000-7000-8000-000000000000";

fn get_did(who: &Identity, request_id: Option<&str>) -> tonic::Request<GetDidRequest> {
    let mut request = who.request(GetDidRequest {
        id: UNKNOWN_ID.into(),
    });
    if let Some(id) = request_id {
        request
            .metadata_mut()
            .insert("x-request-id", id.parse().unwrap());
    }
    request
}

fn echoed(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("the response carries x-request-id")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made_up() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut client = DidServiceClient::new(app.channel.clone());
    let admin = Identity::admin();

    // An error answer carries it too (in a trailers-only response).
    let failed = client
        .get_did(get_did(&admin, Some("req-42.abc")))
        .await
        .unwrap_err();
    assert_eq!(failed.code(), tonic::Code::NotFound);
    assert_eq!(echoed(failed.metadata()), "req-42.abc");

    let made_up = client.get_did(get_did(&admin, None)).await.unwrap_err();
    let id = echoed(made_up.metadata());
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let too_long = "x".repeat(129);
    let replaced = client
        .get_did(get_did(&admin, Some(&too_long)))
        .await
        .unwrap_err();
    let id = echoed(replaced.metadata());
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    // A successful stream, and a call refused before any handler runs.
    let api = Dids::new(&app);
    api.seed(1, "MA").await;
    let mut list = client
        .list_dids({
            let mut request = admin.request(numbering::proto::v1::ListDidsRequest::default());
            request
                .metadata_mut()
                .insert("x-request-id", "list-1".parse().unwrap());
            request
        })
        .await
        .unwrap();
    assert_eq!(echoed(list.metadata()), "list-1");
    assert!(list.get_mut().message().await.unwrap().is_some());
    let mut anonymous = tonic::Request::new(GetDidRequest {
        id: UNKNOWN_ID.into(),
    });
    anonymous
        .metadata_mut()
        .insert("x-request-id", "anon-1".parse().unwrap());
    let refused = client.get_did(anonymous).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(echoed(refused.metadata()), "anon-1");
    app.stop().await;
}

/// The body of `GET /metrics`, checked to be OpenMetrics text.
pub async fn scrape(address: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    body.to_owned()
}

/// The value of the sample named `series` exactly (name and labels).
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

async fn metrics_count_calls_codes_streams_rows_and_the_pool(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.metrics_listen =
            numbering::config::OptionalListen(Some("127.0.0.1:0".parse().unwrap()));
    })
    .await;
    let metrics = app.metrics.expect("metrics are on");
    let api = Dids::new(&app);
    let admin = Identity::admin();
    for n in 1..=3 {
        api.seed(n, "MA").await;
    }
    api.get(&admin, UNKNOWN_ID).await.unwrap_err();
    let pages = api
        .list(
            &admin,
            ListParams {
                limit: 2,
                all_pages: true,
                ..ListParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    let initial = WatchParams {
        send_initial_state: true,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, initial).await.unwrap();
    while !watch
        .within(Duration::from_secs(10))
        .await
        .unwrap()
        .initial_state_complete
    {}

    let text = scrape(metrics).await;
    let did = r#"grpc_service="numbering.v1.DidService""#;
    for (series, value) in [
        (
            format!(r#"grpc_server_handled_total{{{did},grpc_method="CreateDid",grpc_code="OK"}}"#),
            3.0,
        ),
        (
            format!(
                r#"grpc_server_handled_total{{{did},grpc_method="GetDid",grpc_code="NOT_FOUND"}}"#
            ),
            1.0,
        ),
        (
            format!(r#"grpc_server_started_total{{{did},grpc_method="ListDids"}}"#),
            1.0,
        ),
        (
            format!(r#"grpc_server_handling_seconds_count{{{did},grpc_method="CreateDid"}}"#),
            3.0,
        ),
        (
            format!(r#"grpc_server_in_flight{{{did},grpc_method="ListDids"}}"#),
            0.0,
        ),
        (
            r#"numbering_list_rows_sent_total{resource="dids"}"#.into(),
            3.0,
        ),
        (
            r#"numbering_list_pages_sent_total{resource="dids"}"#.into(),
            2.0,
        ),
        (
            r#"numbering_list_streams_open{resource="dids"}"#.into(),
            0.0,
        ),
        (r#"numbering_watches_open{resource="dids"}"#.into(), 1.0),
        (
            r#"numbering_watch_events_sent_total{resource="dids"}"#.into(),
            3.0,
        ),
        (
            r#"numbering_watch_lag_revisions_count{resource="dids"}"#.into(),
            2.0,
        ),
        ("numbering_database_up".into(), 1.0),
    ] {
        assert_eq!(
            sample(&text, &series),
            Some(value),
            "{engine:?} {series}\n{text}"
        );
    }
    let max = sample(&text, "numbering_db_pool_max_connections").unwrap();
    let idle = sample(&text, r#"numbering_db_pool_connections{state="idle"}"#).unwrap();
    assert!(
        max >= 1.0 && idle >= 1.0 && idle <= max,
        "{engine:?}\n{text}"
    );
    drop(watch);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_is_counted_until_it_ends() {
    let mut app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.metrics_listen =
            numbering::config::OptionalListen(Some("127.0.0.1:0".parse().unwrap()));
    })
    .await;
    app.channel = crate::helpers::narrow_channel(app.address);
    crate::helpers::seed_bulky_dids(app.channel.clone(), 1000).await;
    let api = Dids::new(&app);
    let mut stream = api
        .list_stream(
            &Identity::admin(),
            ListParams {
                limit: 100,
                all_pages: true,
                ..ListParams::default()
            },
        )
        .await
        .unwrap();
    stream.next_page().await.unwrap().unwrap();
    let open = r#"numbering_list_streams_open{resource="dids"}"#;
    let in_flight =
        r#"grpc_server_in_flight{grpc_service="numbering.v1.DidService",grpc_method="ListDids"}"#;
    let text = scrape(app.metrics.unwrap()).await;
    assert_eq!(sample(&text, open), Some(1.0), "{text}");
    assert_eq!(sample(&text, in_flight), Some(1.0), "{text}");
    drop(stream);
    let mut text = String::new();
    for _ in 0..50 {
        text = scrape(app.metrics.unwrap()).await;
        if sample(&text, open) == Some(0.0) && sample(&text, in_flight) == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sample(&text, open), Some(0.0), "{text}");
    assert_eq!(sample(&text, in_flight), Some(0.0), "{text}");
    app.stop().await;
}

/// The binary, logging JSON, with every line of a call carrying its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_on_every_line_of_the_call() {
    let mut server = Binary::start(&["--auth", "trusted-headers"], &[("RUST_LOG", "debug")]);
    let mut client = DidServiceClient::new(server.channel().await);
    let mut bad = Identity::admin().request(GetDidRequest {
        id: "not-a-uuid".into(),
    });
    bad.metadata_mut()
        .insert("x-request-id", "json-log-1".parse().unwrap());
    client.get_did(bad).await.unwrap_err();

    let mut of_the_call = 0;
    loop {
        let line = server.next_line();
        let span = &line["span"];
        if span["method"] == "/numbering.v1.DidService/GetDid" {
            assert_eq!(span["request_id"], "json-log-1", "{line}");
            assert!(line["timestamp"].is_string() && line["level"].is_string());
            of_the_call += 1;
        }
        if line["message"] == "rpc finished" && span["request_id"] == "json-log-1" {
            assert_eq!(span["code"], "InvalidArgument", "{line}");
            assert_eq!(span["role"], "admin", "{line}");
            break;
        }
    }
    assert!(of_the_call >= 1);
    assert!(server.terminate(), "SIGTERM stops it cleanly");
    let last =
        std::iter::from_fn(|| Some(server.next_line())).find(|line| line["message"] == "stopped");
    assert!(last.is_some());
}

/// A statement over `--slow-statement` is logged with its SQL, on every
/// engine; under it, nothing is.
async fn slow_statements_are_logged_with_their_sql(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let item = Dids::new(&app).seed(1, "MA").await;
    let server = Binary::start_on(
        app.database_url(),
        &["--auth", "trusted-headers", "--slow-statement", "1ns"],
        &[],
    );
    let mut client = DidServiceClient::new(server.channel().await);
    let request = Identity::admin().request(GetDidRequest { id: item.id });
    client.get_did(request).await.unwrap();
    let slow = std::iter::from_fn(|| Some(server.next_line())).find(|line| {
        line["level"] == "WARN"
            && line["message"]
                .as_str()
                .unwrap_or("")
                .contains("slow statement")
            && line["db.statement"].as_str().unwrap_or("").contains("dids")
    });
    assert!(slow.is_some());
    drop(server);
    app.stop().await;
}

crate::for_every_engine!(
    metrics_count_calls_codes_streams_rows_and_the_pool,
    slow_statements_are_logged_with_their_sql,
);
