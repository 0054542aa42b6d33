//! The server's memory under the abuse its limits answer, measured on the
//! real binary with its default limits. `cargo bench --bench abuse` prints
//! the resident set (current and peak) of the server process after each
//! abuse; it asserts nothing. The pod limit is 256 MiB.
//!
//! 1. Unread unary calls: `max_connections` connections that never open their
//!    HTTP/2 windows, each sending `max_concurrent_streams` GetDid calls.
//! 2. Oversized metadata: every connection sends header lists just under
//!    HTTP/2's own bound, again and again.
//! 3. Silent connections: thousands of TCP connections that never speak.
//! 4. Unfinished messages: every call sends most of a maximal message, then
//!    nothing more.
//! 5. Unread list streams: every connection opens list streams it never reads.
//! 6. Unread watches while writes flow: as many watches as the server takes,
//!    each of its own caller, windows shut, while 2,000 DIDs are created.
//! 7. One reseller locking out the rest: 11 connections x 100 GetDid of one
//!    organization, never read; meanwhile another reseller and an admin
//!    call, and their answers and latencies are printed.
//! 8. Half-open connections: 256 from one address, each with an unfinished
//!    header block; meanwhile a health check and a GetDid from another.
//!
//! Connections come from many loopback addresses (four each), and each
//! flooding connection is its own caller, so that the per-address and
//! per-caller bounds do not hide the server-wide worst case; 7 and 8 are
//! the cases those bounds are for.

mod support;

use bytes::{BufMut, Bytes, BytesMut};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::Server;
use tokio::net::TcpStream;

const CONNECTIONS: usize = 256;
const STREAMS_PER_CONNECTION: usize = 100;

fn frame(message: &[u8]) -> Bytes {
    let mut buffer = BytesMut::with_capacity(5 + message.len());
    buffer.put_u8(0);
    buffer.put_u32(message.len() as u32);
    buffer.put_slice(message);
    buffer.freeze()
}

const ADMIN: &str = "0195d7a0-0000-7000-8000-000000000001";

fn request_as(
    address: SocketAddr,
    path: &str,
    padding: usize,
    identity: &[(&'static str, String)],
) -> http::Request<()> {
    let mut request = http::Request::post(format!("http://{address}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (key, value) in identity {
        request = request.header(*key, value);
    }
    for n in 0..padding.div_ceil(8000) {
        request = request.header(format!("x-pad-{n}"), "p".repeat(8000));
    }
    request.body(()).unwrap()
}

type Held = (
    h2::client::SendRequest<Bytes>,
    Vec<(h2::client::ResponseFuture, h2::SendStream<Bytes>)>,
);

/// The trusted headers of the admin `user`.
fn admin(user: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-user-id", user.to_owned()),
        ("x-role", "admin".to_owned()),
    ]
}

/// A TCP connection from the next of many loopback addresses, four each.
async fn connect_spread(address: SocketAddr) -> Option<TcpStream> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let source: SocketAddr = format!("127.0.{}.{}:0", 1 + n / 1000, 2 + (n / 4) % 250)
        .parse()
        .ok()?;
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind(source).ok()?;
    socket.connect(address).await.ok()
}

/// A connection that never opens its windows, and its requests' responses,
/// each sent as `identity`. With `finish` false, the request bodies are
/// never ended.
async fn unread_connection(
    address: SocketAddr,
    path: &'static str,
    body: Bytes,
    streams: usize,
    padding: usize,
    finish: bool,
    identity: &[(&'static str, String)],
) -> Option<Held> {
    let tcp = connect_spread(address).await?;
    let mut builder = h2::client::Builder::new();
    builder.initial_window_size(0);
    let (send, connection) = builder.handshake(tcp).await.ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut responses = Vec::new();
    let mut send = send;
    for _ in 0..streams {
        let Ok(mut ready) = send.clone().ready().await else {
            break;
        };
        let Ok((response, mut stream)) =
            ready.send_request(request_as(address, path, padding, identity), false)
        else {
            break;
        };
        let _ = stream.send_data(body.clone(), finish);
        responses.push((response, stream));
        send = ready;
    }
    Some((send, responses))
}

/// The connections that opened, of those being opened.
async fn gather(opening: impl Iterator<Item = tokio::task::JoinHandle<Option<Held>>>) -> Vec<Held> {
    futures::future::join_all(opening)
        .await
        .into_iter()
        .filter_map(|c| c.ok().flatten())
        .collect()
}

async fn flood(server: &Server, path: &'static str, body: Bytes, padding: usize) -> Vec<Held> {
    flood_with(server, path, body, padding, true).await
}

async fn flood_unfinished(server: &Server, path: &'static str, body: Bytes) -> Vec<Held> {
    flood_with(server, path, body, 0, false).await
}

async fn flood_with(
    server: &Server,
    path: &'static str,
    body: Bytes,
    padding: usize,
    finish: bool,
) -> Vec<Held> {
    let started = Instant::now();
    let connections = (0..CONNECTIONS).map(|_| {
        let body = body.clone();
        let identity = admin(&uuid::Uuid::now_v7().to_string());
        let address = server.address;
        tokio::spawn(async move {
            let streams = STREAMS_PER_CONNECTION;
            unread_connection(address, path, body, streams, padding, finish, &identity).await
        })
    });
    let held = gather(connections).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "  {} connections, {} calls sent in {:.1?}",
        held.len(),
        held.iter().map(|(_, r)| r.len()).sum::<usize>(),
        started.elapsed()
    );
    held
}

#[tokio::main]
async fn main() {
    let server = Server::start().await;
    server.report("started");

    // A DID to get, so that every GetDid answers with a message.
    let create = frame(&[0x0a, 4, b'+', b'1', b'2', b'3', 0x12, 2, b'M', b'A']);
    let (_, mut created) = unread_connection(
        server.address,
        "/numbering.v1.DidService/CreateDid",
        create,
        1,
        0,
        true,
        &admin(ADMIN),
    )
    .await
    .unwrap();
    drop(created.pop());
    server.report("one DID created");

    println!(
        "1. unread unary calls ({CONNECTIONS} x {STREAMS_PER_CONNECTION} GetDid, windows shut)"
    );
    let id = uuid::Uuid::now_v7().to_string();
    let get = frame(&[&[0x0a, id.len() as u8][..], id.as_bytes()].concat());
    let held = flood(&server, "/numbering.v1.DidService/GetDid", get, 0).await;
    server.report("  while held");
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.report("  after they closed");

    println!("2. metadata of 120 kB on every call ({CONNECTIONS} x {STREAMS_PER_CONNECTION})");
    let held = flood(&server, "/grpc.health.v1.Health/Check", frame(&[]), 120_000).await;
    server.report("  while held");
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.report("  after they closed");

    println!("3. 2000 silent TCP connections");
    let mut silent = Vec::new();
    for _ in 0..2000 {
        if let Ok(Ok(tcp)) = tokio::time::timeout(
            Duration::from_millis(200),
            TcpStream::connect(server.address),
        )
        .await
        {
            silent.push(tcp);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.report(&format!("  {} connected", silent.len()));
    tokio::time::sleep(Duration::from_secs(11)).await;
    server.report("  after the 10 s handshake timeout");
    drop(silent);
    tokio::time::sleep(Duration::from_secs(1)).await;

    println!(
        "4. messages never finished ({CONNECTIONS} x {STREAMS_PER_CONNECTION} CreateDid, 60 of 64 KiB sent)"
    );
    let mut partial = BytesMut::with_capacity(60_005);
    partial.put_u8(0);
    partial.put_u32(65_000);
    partial.put_slice(&vec![b'x'; 60_000]);
    let held = flood_unfinished(
        &server,
        "/numbering.v1.DidService/CreateDid",
        partial.freeze(),
    )
    .await;
    server.report("  while held");
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.report("  after they closed");

    println!(
        "5. unread list streams ({CONNECTIONS} x {STREAMS_PER_CONNECTION} ListDids, windows shut)"
    );
    let list = frame(&[0x10, 100, 0x60, 1]); // limit 100, all_pages
    let held = flood(&server, "/numbering.v1.DidService/ListDids", list, 0).await;
    server.report("  while held");
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.report("  after they closed");

    // Connections to spare for the writer: the watchers take the rest.
    const WATCHERS: usize = CONNECTIONS - 16;
    println!(
        "6. unread watches ({WATCHERS} callers, initial state, windows shut) while 2000 DIDs are created"
    );
    let watch = frame(&[0x10, 1]); // send_initial_state
    let watches = (0..WATCHERS).map(|_| {
        let identity = admin(&uuid::Uuid::now_v7().to_string());
        let (watch, address) = (watch.clone(), server.address);
        tokio::spawn(async move {
            let path = "/numbering.v1.DidService/WatchDids";
            unread_connection(address, path, watch, 1, 0, true, &identity).await
        })
    });
    let held = gather(watches).await;
    let mut writer =
        numbering::proto::v1::did_service_client::DidServiceClient::new(server.channel().await);
    let started = Instant::now();
    let mut created = 0;
    for n in 0..2000u32 {
        let mut create = tonic::Request::new(numbering::proto::v1::CreateDidRequest {
            number: format!("+1999{n:07}"),
            country: "US".into(),
            ..Default::default()
        });
        create
            .metadata_mut()
            .insert("x-user-id", ADMIN.parse().unwrap());
        create
            .metadata_mut()
            .insert("x-role", "admin".parse().unwrap());
        match writer.create_did(create).await {
            Ok(_) => created += 1,
            Err(status) if created == 0 && n == 0 => println!("  first create: {status:?}"),
            Err(_) => {}
        }
    }
    server.report(&format!(
        "  {} watches held, {created} of 2000 DIDs created in {:.1?}",
        held.len(),
        started.elapsed()
    ));
    tokio::time::sleep(Duration::from_secs(12)).await;
    server.report("  after the 10 s stall timeout");
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.report("  after they closed");

    let shared = writer
        .get_did(as_caller(
            numbering::proto::v1::GetDidRequest {
                id: first_id(&server).await,
            },
            ADMIN,
            "admin",
            None,
        ))
        .await
        .expect("the first DID")
        .into_inner()
        .did
        .unwrap();
    println!("7. one reseller: 11 connections x 100 GetDid of a shared DID, never read");
    let hostile_org = uuid::Uuid::now_v7().to_string();
    let get = frame(&[&[0x0a, shared.id.len() as u8][..], shared.id.as_bytes()].concat());
    let hostile = (0..11).map(|_| {
        let identity = [
            ("x-user-id", uuid::Uuid::now_v7().to_string()),
            ("x-role", "reseller".to_owned()),
            ("x-organization-id", hostile_org.clone()),
        ];
        let (address, get) = (server.address, get.clone());
        tokio::spawn(async move {
            unread_connection(
                address,
                "/numbering.v1.DidService/GetDid",
                get,
                100,
                0,
                true,
                &identity,
            )
            .await
        })
    });
    let held = gather(hostile).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let other_org = uuid::Uuid::now_v7().to_string();
    for (who, role, org) in [
        ("another reseller", "reseller", Some(other_org.as_str())),
        ("an admin", "admin", None),
        (
            "the hostile reseller",
            "reseller",
            Some(hostile_org.as_str()),
        ),
    ] {
        let (mut ok, mut refused, mut slowest) = (0, 0, Duration::ZERO);
        for _ in 0..100 {
            let request = numbering::proto::v1::GetDidRequest {
                id: shared.id.clone(),
            };
            let started = Instant::now();
            match writer
                .get_did(as_caller(
                    request,
                    &uuid::Uuid::now_v7().to_string(),
                    role,
                    org,
                ))
                .await
            {
                Ok(_) => ok += 1,
                Err(_) => refused += 1,
            }
            slowest = slowest.max(started.elapsed());
        }
        println!("  {who}: {ok} of 100 GetDid answered, {refused} refused, slowest {slowest:.1?}");
    }
    server.report(&format!("  {} hostile connections held", held.len()));
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await;

    println!("8. 256 half-open connections from one address (unfinished header block)");
    let mut half_open = Vec::new();
    for _ in 0..256 {
        use tokio::io::AsyncWriteExt;
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.250.250:0".parse().unwrap()).unwrap();
        if let Ok(mut tcp) = socket.connect(server.address).await {
            let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0".to_vec();
            opening.extend_from_slice(&[0, 0, 3, 0x1, 0x1, 0, 0, 0, 1, 0x82, 0x86, 0x84]);
            let _ = tcp.write_all(&opening).await;
            half_open.push(tcp);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let started = Instant::now();
    let checked = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .map(|r| r.into_inner().status);
    let health_took = started.elapsed();
    let started = Instant::now();
    let got = writer
        .get_did(as_caller(
            numbering::proto::v1::GetDidRequest {
                id: shared.id.clone(),
            },
            ADMIN,
            "admin",
            None,
        ))
        .await
        .is_ok();
    println!(
        "  health check from another address on a new connection: {checked:?} in {health_took:.1?}; GetDid ok: {got} in {:.1?}",
        started.elapsed()
    );
    server.report("  while they are open");
    drop(half_open);
}

/// `message` as `user` with `role` (and organization) in trusted headers.
fn as_caller<T>(
    message: T,
    user: &str,
    role: &str,
    organization: Option<&str>,
) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("x-user-id", user.parse().unwrap());
    metadata.insert("x-role", role.parse().unwrap());
    if let Some(organization) = organization {
        metadata.insert("x-organization-id", organization.parse().unwrap());
    }
    request
}

/// The id of the first DID in the inventory.
async fn first_id(server: &Server) -> String {
    use futures::StreamExt;
    let mut client =
        numbering::proto::v1::did_service_client::DidServiceClient::new(server.channel().await);
    let request = as_caller(
        numbering::proto::v1::ListDidsRequest {
            limit: 1,
            ..Default::default()
        },
        ADMIN,
        "admin",
        None,
    );
    let mut pages = client.list_dids(request).await.unwrap().into_inner();
    let page = pages.next().await.unwrap().unwrap();
    page.data[0].id.clone()
}
