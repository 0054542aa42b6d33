//! What a hostile client can do to everyone else, and the bounded resource
//! and clear status that answer it. Transport abuse does not depend on the
//! engine and runs on SQLite; list streams hold database connections and run
//! on every engine.

use crate::assertions::expect_error;
use crate::helpers::{Engine, Identity, TestApp, organization};
use crate::raw::{RawConnection, frame, framed};
use crate::resources::{Dids, ListParams, Resource};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tonic::{Code, Status};
use tonic_types::StatusExt;

const CREATE_DID: &str = "/numbering.v1.DidService/CreateDid";
const GET_DID: &str = "/numbering.v1.DidService/GetDid";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";

/// The status is INVALID_ARGUMENT, MALFORMED_REQUEST, naming `field` if set.
fn expect_malformed(status: Status, field: Option<&str>, case: &str) {
    let status = expect_error::<()>(Err(status), Code::InvalidArgument, "MALFORMED_REQUEST");
    let details = status.get_error_details();
    let named = details
        .bad_request()
        .map(|request| request.field_violations[0].field.clone());
    assert_eq!(named.as_deref(), field, "{case}: {status:?}");
}

#[tokio::test]
async fn undecodable_requests_are_invalid_argument_naming_the_field() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.metrics_listen =
            numbering::config::OptionalListen(Some("127.0.0.1:0".parse().unwrap()));
    })
    .await;
    let mut raw = RawConnection::open(app.address).await;
    // Field 1 of CreateDidRequest is `number`, a string.
    let cases: [(&str, Bytes, Option<&str>); 7] = [
        (
            "invalid UTF-8",
            frame(&[0x0a, 2, 0xff, 0xfe]),
            Some("number"),
        ),
        ("wrong wire type", frame(&[0x08, 1]), Some("number")),
        ("tag 0", frame(&[0x00, 1]), None),
        (
            "truncated message",
            frame(&[0x0a, 10, b'1', b'2']),
            Some("number"),
        ),
        ("truncated frame", framed(0, 100, &[0x0a, 1, b'1']), None),
        ("compression flag 2", framed(2, 3, &[0x0a, 1, b'1']), None),
        ("no message", Bytes::new(), None),
    ];
    for (case, body, field) in cases {
        expect_malformed(raw.call(CREATE_DID, &[], body).await, field, case);
    }

    let oversized = framed(0, 1 << 20, &[0x0a, 1, b'1']);
    let status = raw.call(CREATE_DID, &[], oversized).await;
    expect_error::<()>(Err(status), Code::ResourceExhausted, "MESSAGE_TOO_LARGE");

    // Counted as the client's fault, not the server's.
    let text = crate::observability::scrape(app.metrics.unwrap()).await;
    let series = |code: &str| {
        format!(
            r#"grpc_server_handled_total{{grpc_service="numbering.v1.DidService",grpc_method="CreateDid",grpc_code="{code}"}}"#
        )
    };
    assert_eq!(
        crate::observability::sample(&text, &series("INVALID_ARGUMENT")),
        Some(7.0),
        "{text}"
    );
    assert_eq!(
        crate::observability::sample(&text, &series("INTERNAL")),
        None
    );
    app.stop().await;
}

#[tokio::test]
async fn every_rpc_refuses_garbage_as_malformed_health_included() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut raw = RawConnection::open(app.address).await;
    let mut paths = vec![HEALTH_CHECK.to_owned(), HEALTH_WATCH.to_owned()];
    for service in ["DidService", "SenderIdService"] {
        for rpc in crate::matrix::described_rpcs(service) {
            paths.push(format!("/numbering.v1.{service}/{rpc}"));
        }
    }
    // Tag 0 is invalid in every message; wire type 7 does not exist.
    for garbage in [frame(&[0x00, 1]), frame(&[0x0f, 1])] {
        for path in &paths {
            expect_malformed(raw.call(path, &[], garbage.clone()).await, None, path);
        }
    }
    app.stop().await;
}

/// `size` bytes of metadata, in entries of at most 8 KiB.
fn padding(size: usize) -> Vec<(&'static str, String)> {
    const KEYS: [&str; 16] = [
        "x-pad-0", "x-pad-1", "x-pad-2", "x-pad-3", "x-pad-4", "x-pad-5", "x-pad-6", "x-pad-7",
        "x-pad-8", "x-pad-9", "x-pad-a", "x-pad-b", "x-pad-c", "x-pad-d", "x-pad-e", "x-pad-f",
    ];
    let entries = size.div_ceil(8192);
    KEYS[..entries]
        .iter()
        .map(|key| (*key, "p".repeat(size / entries)))
        .collect()
}

#[tokio::test]
async fn oversized_metadata_is_resource_exhausted_and_spares_the_connection() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut raw = RawConnection::open(app.address).await;
    let watch = raw.start(HEALTH_WATCH, &[], frame(&[])).await;
    let watch = watch.await.expect("the watch answers");
    assert_eq!(watch.status(), 200);

    for size in [20_000, 60_000, 100_000] {
        let status = raw.call(GET_DID, &padding(size), frame(&[])).await;
        expect_error::<()>(Err(status), Code::ResourceExhausted, "METADATA_TOO_LARGE");
    }

    // The connection and the call already on it go on.
    let id = uuid::Uuid::now_v7().to_string();
    let get = frame(&[&[0x0a, id.len() as u8][..], id.as_bytes()].concat());
    let status = raw.call(GET_DID, &[], get).await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let mut watch = watch.into_body();
    let first = tokio::time::timeout(Duration::from_secs(5), watch.data())
        .await
        .expect("the watch still streams")
        .expect("a message")
        .expect("not reset");
    assert!(!first.is_empty());
    assert!(!raw.closed.is_finished());
    app.stop().await;
}

#[tokio::test]
async fn the_server_announces_its_limit_of_streams_per_connection() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let tcp = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let (send, mut connection) = h2::client::handshake(tcp).await.unwrap();
    // Drive the connection until the server's SETTINGS have arrived.
    let ping = async {
        let mut send = send.ready().await.unwrap();
        let request = http::Request::post(format!("http://{}{HEALTH_CHECK}", app.address))
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let (response, mut body) = send.send_request(request, false).unwrap();
        body.send_data(frame(&[]), true).unwrap();
        response.await.unwrap()
    };
    tokio::select! {
        _ = ping => {}
        _ = &mut connection => panic!("the connection closed"),
    }

    assert_eq!(connection.max_concurrent_send_streams(), 100);
    app.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_completes_the_handshake_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.handshake_timeout = Duration::from_millis(300);
    })
    .await;
    for opening in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let mut tcp = tokio::net::TcpStream::connect(app.address).await.unwrap();
        tcp.write_all(opening).await.unwrap();
        let started = Instant::now();

        let mut buffer = [0; 64];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match tcp.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {} // the server's SETTINGS
                }
            }
        })
        .await;

        assert!(closed.is_ok(), "a silent connection stayed open");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.keepalive_interval = Duration::from_millis(200);
        settings.transport.keepalive_timeout = Duration::from_millis(200);
    })
    .await;
    // A complete HTTP/2 opening (preface and an empty SETTINGS frame), and
    // then silence: the server's PINGs go unanswered.
    let mut tcp = tokio::net::TcpStream::connect(app.address).await.unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();

    let mut buffer = [0; 256];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match tcp.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // SETTINGS, PING, GOAWAY
            }
        }
    })
    .await;

    assert!(
        closed.is_ok(),
        "a peer that answers no PING stayed connected"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.idle_timeout = Duration::from_millis(500);
    })
    .await;
    let mut idle = RawConnection::open(app.address).await;
    let mut busy = RawConnection::open(app.address).await;
    assert_eq!(
        idle.call(HEALTH_CHECK, &[], frame(&[])).await.code(),
        Code::Ok
    );
    let watch = busy.start(HEALTH_WATCH, &[], frame(&[])).await;

    tokio::time::timeout(Duration::from_secs(5), &mut idle.closed)
        .await
        .expect("the idle connection is closed")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;

    assert!(
        !busy.closed.is_finished(),
        "a connection with a call open was closed"
    );
    assert_eq!(
        busy.call(HEALTH_CHECK, &[], frame(&[])).await.code(),
        Code::Ok
    );
    drop(watch);
    app.stop().await;
}

#[tokio::test]
async fn calls_beyond_the_server_limit_are_resource_exhausted_and_health_still_answers() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.max_calls = 2;
    })
    .await;
    // A client that never opens its windows: the responses stay unsent, and
    // each call keeps its place.
    let mut builder = h2::client::Builder::new();
    builder.initial_window_size(0);
    let mut unread = RawConnection::open_with(app.address, builder).await;
    let id = uuid::Uuid::now_v7().to_string();
    let get = frame(&[&[0x0a, id.len() as u8][..], id.as_bytes()].concat());
    let mut held = Vec::new();
    for digit in [b'1', b'2'] {
        // CreateDidRequest { number: "12N", country: "MA" }
        let create = frame(&[0x0a, 3, b'1', b'2', digit, 0x12, 2, b'M', b'A']);
        held.push(unread.start(CREATE_DID, &[], create).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut polite = RawConnection::open(app.address).await;
    let refused = polite.call(GET_DID, &[], get.clone()).await;
    expect_error::<()>(Err(refused), Code::ResourceExhausted, "TOO_MANY_CALLS");
    assert_eq!(
        polite.call(HEALTH_CHECK, &[], frame(&[])).await.code(),
        Code::Ok
    );

    drop(held);
    drop(unread);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(polite.call(GET_DID, &[], get).await.code(), Code::NotFound);
    app.stop().await;
}

/// The trusted headers of `identity`, for a raw call.
fn headers_of(identity: &Identity) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("x-user-id", identity.user_id.to_string()),
        ("x-role", identity.role.to_owned()),
    ];
    if let Some(organization) = identity.organization_id {
        headers.push(("x-organization-id", organization.to_string()));
    }
    headers
}

/// One reseller that opens calls and never reads their answers (HTTP/2
/// windows of 0) takes only its own places: its calls past them are
/// refused, while another tenant and an admin are served at once; past
/// the call time limit, its places are its own again.
#[tokio::test]
async fn a_caller_that_never_reads_takes_only_its_own_places() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.max_calls = 8;
        settings.transport.max_calls_per_caller = 3;
        settings.transport.call_time_limit = Duration::from_secs(2);
    })
    .await;
    let api = Dids::new(&app);
    let shared = api.seed(1, "MA").await;
    let get = frame(&[&[0x0a, shared.id.len() as u8][..], shared.id.as_bytes()].concat());
    let hostile = headers_of(&Identity::reseller(organization()));

    let mut builder = h2::client::Builder::new();
    builder.initial_window_size(0);
    let mut unread = RawConnection::open_with(app.address, builder).await;
    // As many calls as the whole server has places: three are its own.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(unread.start(GET_DID, &hostile, get.clone()).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut polite = RawConnection::open(app.address).await;
    let refused = polite.call(GET_DID, &hostile, get.clone()).await;
    let refused = expect_error::<()>(Err(refused), Code::ResourceExhausted, "TOO_MANY_CALLS");
    assert!(refused.message().contains("this caller"), "{refused:?}");

    // Everyone else is served, and at once.
    let started = Instant::now();
    for other in [Identity::reseller(organization()), Identity::admin()] {
        let status = polite.call(GET_DID, &headers_of(&other), get.clone()).await;
        assert_eq!(status.code(), Code::Ok, "{status:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(1));

    // Past the call time limit, the unread answers no longer count.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let status = polite.call(GET_DID, &hostile, get).await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
    drop(held);
    app.stop().await;
}

/// A client that never takes an answer cannot be sent a status: past the
/// send timeout its connection is closed, which ends its calls (and frees
/// what they hold); a connection whose client reads, with a call open
/// that has nothing to send, stays.
#[tokio::test]
async fn a_connection_whose_client_takes_no_answer_is_closed_after_the_send_timeout() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.send_timeout = Duration::from_secs(1);
    })
    .await;
    let api = Dids::new(&app);
    let shared = api.seed(1, "MA").await;
    let get = frame(&[&[0x0a, shared.id.len() as u8][..], shared.id.as_bytes()].concat());

    let mut builder = h2::client::Builder::new();
    builder.initial_window_size(0);
    let mut unread = RawConnection::open_with(app.address, builder).await;
    let held = unread.start(GET_DID, &[], get).await;
    let mut reading = RawConnection::open(app.address).await;
    let watch = reading.start(HEALTH_WATCH, &[], frame(&[])).await;
    let mut watch = watch.await.expect("the watch answers").into_body();
    let first = watch.data().await.expect("a status").expect("not reset");
    let _ = watch.flow_control().release_capacity(first.len());
    let started = Instant::now();

    tokio::time::timeout(Duration::from_secs(5), &mut unread.closed)
        .await
        .expect("the connection of the unread answer is closed")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !reading.closed.is_finished(),
        "a reading client was cut off"
    );
    assert_eq!(
        reading.call(HEALTH_CHECK, &[], frame(&[])).await.code(),
        Code::Ok
    );
    drop((held, watch));
    app.stop().await;
}

/// A connection from `source` that sends the HTTP/2 preface, its SETTINGS
/// and the start of a header block that it never finishes.
async fn half_open(source: &str, server: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut tcp = socket.connect(server).await.unwrap();
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0".to_vec();
    // HEADERS on stream 1, 3 bytes of block, END_STREAM but not END_HEADERS.
    opening.extend_from_slice(&[0, 0, 3, 0x1, 0x1, 0, 0, 0, 1, 0x82, 0x86, 0x84]);
    // The server may have closed it already: that is what some expect.
    let _ = tcp.write_all(&opening).await;
    tcp
}

/// Whether the server closes `tcp` within `wait`.
async fn closed_within(tcp: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0; 256];
    tokio::time::timeout(wait, async {
        loop {
            match tcp.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // SETTINGS, their ACK
            }
        }
    })
    .await
    .is_ok()
}

/// Connections from one address that never finish their first call's
/// headers: past a few, each is closed at once; the few are closed after
/// the handshake timeout; meanwhile other addresses connect, call and get
/// health checks answered.
#[tokio::test]
async fn half_open_connections_from_one_address_lock_nobody_out() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.transport.max_connections = 16;
        settings.transport.max_half_open_per_peer = 4;
        settings.transport.handshake_timeout = Duration::from_secs(2);
    })
    .await;
    let mut hostile = Vec::new();
    for _ in 0..40 {
        hostile.push(half_open("127.0.0.2", app.address).await);
    }
    let mut closed_at_once = 0;
    for tcp in &mut hostile {
        if closed_within(tcp, Duration::from_millis(200)).await {
            closed_at_once += 1;
        }
    }
    assert_eq!(closed_at_once, 36, "all but four refused at once");

    let started = Instant::now();
    let mut polite = RawConnection::open(app.address).await;
    assert_eq!(
        polite.call(HEALTH_CHECK, &[], frame(&[])).await.code(),
        Code::Ok
    );
    let id = uuid::Uuid::now_v7().to_string();
    let get = frame(&[&[0x0a, id.len() as u8][..], id.as_bytes()].concat());
    assert_eq!(polite.call(GET_DID, &[], get).await.code(), Code::NotFound);
    assert!(started.elapsed() < Duration::from_secs(1));

    for tcp in &mut hostile {
        assert!(
            closed_within(tcp, Duration::from_secs(4)).await,
            "a half-open connection outlived the handshake timeout"
        );
    }
    app.stop().await;
}

/// A list of every page, as one reseller would open it.
fn every_page() -> ListParams {
    ListParams {
        limit: 100,
        all_pages: true,
        ..ListParams::default()
    }
}

/// Lists that a reseller opens and never reads take two places of the
/// budget at most, give back their connections after the stall timeout,
/// and leave every other tenant's calls alone.
async fn unread_list_streams_hold_neither_the_pool_nor_other_tenants(engine: Engine) {
    let mut app = TestApp::spawn_with(engine, |settings| {
        settings.streams.stream_stall_timeout = Duration::from_secs(3);
        settings.streams.stream_queue_timeout = Duration::from_millis(100);
    })
    .await;
    app.channel = crate::helpers::narrow_channel(app.address);
    crate::helpers::seed_bulky_dids(app.channel.clone(), 2000).await;
    let api = Dids::new(&app);
    let hostile = Identity::reseller(organization());

    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..12 {
        match api.list_stream(&hostile, every_page()).await {
            Ok(stream) => open.push(stream),
            Err(status) => {
                expect_error::<()>(Err(status), Code::ResourceExhausted, "TOO_MANY_STREAMS");
                refused += 1;
            }
        }
    }
    assert_eq!((open.len(), refused), (2, 10), "two places per caller");

    let started = Instant::now();
    let other = Identity::reseller(organization());
    let seen = api.list(&other, ListParams::default()).await.unwrap();
    assert_eq!(seen[0].meta.total, 2000);
    api.get(&Identity::admin(), &seen[0].data[0].id)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // Past the stall timeout, the unread lists hold no transaction.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    app.wait_for_no_open_transactions().await;
    let mut stalled = open.pop().unwrap();
    let ended = loop {
        match stalled.next_page().await {
            Some(Ok(_)) => continue,
            Some(Err(status)) => break status,
            None => panic!("a stalled stream ended without a status"),
        }
    };
    expect_error::<()>(Err(ended), Code::ResourceExhausted, "STREAM_STALLED");
    drop(open);
    app.stop().await;
}

/// Fifty slowly read lists against a pool of four: the budget runs two at a
/// time, the rest wait their turn or are refused RESOURCE_EXHAUSTED, none
/// is UNAVAILABLE, and unary calls meanwhile find a connection at once.
async fn many_concurrent_lists_queue_or_are_refused_never_unavailable(engine: Engine) {
    let mut app = TestApp::spawn_with(engine, |settings| {
        settings.database_max_connections = 4;
    })
    .await;
    app.channel = crate::helpers::narrow_channel(app.address);
    crate::helpers::seed_bulky_dids(app.channel.clone(), 1000).await;
    let api = Dids::new(&app);

    let lists = (0..50).map(|_| {
        let api = api.clone();
        tokio::spawn(async move {
            let mut stream = api.list_stream(&Identity::admin(), every_page()).await?;
            while let Some(page) = stream.next_page().await {
                page?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok::<(), Status>(())
        })
    });
    let lists = futures::future::join_all(lists);
    let unary = async {
        let mut slowest = Duration::ZERO;
        for n in 0..20 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let started = Instant::now();
            let item = api.seed(1000 + n, "MA").await;
            api.get(&Identity::admin(), &item.id).await.unwrap();
            slowest = slowest.max(started.elapsed());
        }
        slowest
    };
    let (outcomes, slowest) = tokio::join!(lists, unary);

    let mut finished = 0;
    for outcome in outcomes {
        match outcome.unwrap() {
            Ok(()) => finished += 1,
            Err(status) => {
                expect_error::<()>(Err(status), Code::ResourceExhausted, "TOO_MANY_STREAMS");
            }
        }
    }
    assert!(finished >= 2, "only {finished} lists finished");
    assert!(
        slowest < Duration::from_secs(1),
        "a unary call took {slowest:?}"
    );
    app.stop().await;
}

crate::for_every_engine!(
    unread_list_streams_hold_neither_the_pool_nor_other_tenants,
    many_concurrent_lists_queue_or_are_refused_never_unavailable,
);
