//! Throughput and latency of the real server, measured through gRPC.
//!
//! `cargo bench --bench throughput` runs against a fresh SQLite file;
//! `BENCH_DATABASE_URL=postgres://…/db` (an existing, empty database) runs
//! against another engine. `BENCH_ITEMS` sets the inventory size (default
//! 5000). It prints figures; it asserts nothing.

use numbering::config::{AuthMode, OptionalListen, Settings};
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use numbering::startup::Application;
use std::time::{Duration, Instant};
use tonic::Request;
use tonic::transport::Channel;

const CONCURRENCY: usize = 16;

fn admin<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "x-user-id",
        "0195d7a0-0000-7000-8000-000000000001".parse().unwrap(),
    );
    request
        .metadata_mut()
        .insert("x-role", "admin".parse().unwrap());
    request
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::var("BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let sqlite = std::env::temp_dir().join(format!("numbering-bench-{}.db", uuid::Uuid::now_v7()));
    let database_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", sqlite.display()));
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        auth: AuthMode::TrustedHeaders,
        shutdown_grace: Duration::from_secs(1),
        metrics_listen: OptionalListen(None),
        ..Settings::defaults()
    };
    let app = Application::build(&settings)
        .await
        .expect("the server starts");
    let address = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = DidServiceClient::new(channel);
    let engine = database_url.split(':').next().unwrap_or("?");
    println!("numbering throughput: {items} DIDs on {engine}, {CONCURRENCY} concurrent callers\n");

    // Creates, CONCURRENCY at a time.
    let started = Instant::now();
    let mut ids = Vec::with_capacity(items);
    let mut latencies = Vec::with_capacity(items);
    for batch in (0..items).collect::<Vec<_>>().chunks(CONCURRENCY) {
        let calls = batch.iter().map(|n| {
            let mut client = client.clone();
            let request = pb::CreateDidRequest {
                number: format!("+1555{n:08}"),
                country: "US".into(),
                description: None,
                status: 0,
                request_id: String::new(),
            };
            async move {
                let t = Instant::now();
                let did = client
                    .create_did(admin(request))
                    .await
                    .expect("create")
                    .into_inner()
                    .did
                    .unwrap();
                (did.id, t.elapsed())
            }
        });
        for (id, latency) in futures::future::join_all(calls).await {
            ids.push(id);
            latencies.push(latency);
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "CreateDid       {:>8.0} calls/s   p50 {:>7.2?}  p99 {:>7.2?}",
        items as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Gets, CONCURRENCY at a time.
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(items);
    for batch in ids.chunks(CONCURRENCY) {
        let calls = batch.iter().map(|id| {
            let mut client = client.clone();
            let request = pb::GetDidRequest { id: id.clone() };
            async move {
                let t = Instant::now();
                client.get_did(admin(request)).await.expect("get");
                t.elapsed()
            }
        });
        latencies.extend(futures::future::join_all(calls).await);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "GetDid          {:>8.0} calls/s   p50 {:>7.2?}  p99 {:>7.2?}",
        items as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // One page, as a UI asks for it.
    let mut latencies = Vec::new();
    for page in 1..=50u32 {
        let request = pb::ListDidsRequest {
            page,
            limit: 20,
            ..Default::default()
        };
        let t = Instant::now();
        let mut stream = client
            .clone()
            .list_dids(admin(request))
            .await
            .expect("list")
            .into_inner();
        while stream.message().await.expect("page").is_some() {}
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "ListDids page   {:>8}             p50 {:>7.2?}  p99 {:>7.2?}",
        "",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // The whole inventory, streamed by keyset pages of 100.
    let request = pb::ListDidsRequest {
        limit: 100,
        all_pages: true,
        ..Default::default()
    };
    let started = Instant::now();
    let mut stream = client
        .clone()
        .list_dids(admin(request))
        .await
        .expect("list")
        .into_inner();
    let mut first_page = None;
    let mut rows = 0;
    while let Some(page) = stream.message().await.expect("page") {
        first_page.get_or_insert_with(|| started.elapsed());
        rows += page.data.len();
    }
    let elapsed = started.elapsed();
    assert_eq!(rows, items, "every row streamed");
    println!(
        "ListDids all    {:>8.0} rows/s    first page {:>7.2?}, all {rows} rows in {:.2?}",
        rows as f64 / elapsed.as_secs_f64(),
        first_page.unwrap_or_default(),
        elapsed
    );
    if let Some(rss) = peak_rss_mib() {
        println!("\npeak RSS of server and client together: {rss:.1} MiB");
    }

    let _ = stop.send(());
    let _ = server.await;
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", sqlite.display())).ok();
    }
}
