//! Soak: minutes of mixed calls against the real binary, with list streams,
//! clients that walk away mid-stream and deadlines that expire. `cargo bench
//! --bench soak` runs ten minutes (`SOAK_SECONDS` changes it) and prints the
//! calls made, every status other than OK by code, p50/p99 per kind, and the
//! server's memory at the start and the end. It asserts nothing.
//! `SOAK_INVENTORY=n` stops each caller creating once it has made `n` DIDs,
//! so that memory can be watched over an inventory that stops growing.

mod support;

use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Server;
use tonic::Request;
use tonic::transport::Channel;

const WORKERS: usize = 12;

fn admin<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert(
        "x-user-id",
        "0195d7a0-0000-7000-8000-000000000001".parse().unwrap(),
    );
    metadata.insert("x-role", "admin".parse().unwrap());
    request
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    codes: BTreeMap<(&'static str, String), u64>,
}

impl Tally {
    fn record(&mut self, kind: &'static str, took: Duration, outcome: Result<(), tonic::Status>) {
        self.latencies.entry(kind).or_default().push(took);
        if let Err(status) = outcome {
            *self
                .codes
                .entry((kind, format!("{:?}", status.code())))
                .or_default() += 1;
        }
    }
}

async fn worker(
    channel: Channel,
    worker: usize,
    until: Instant,
    inventory: usize,
    tally: Arc<Mutex<Tally>>,
) {
    let mut client = DidServiceClient::new(channel);
    let mut ids: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let started = Instant::now();
        let (kind, outcome) = match n % 10 {
            0..=2 if ids.len() < inventory => {
                let request = pb::CreateDidRequest {
                    number: format!("+1{worker:02}{n:010}"),
                    country: "US".into(),
                    description: Some(format!("soak {n}")),
                    status: 0,
                    request_id: String::new(),
                };
                let created = client.create_did(admin(request)).await;
                if let Ok(response) = &created {
                    ids.push(response.get_ref().did.as_ref().unwrap().id.clone());
                }
                ("create", created.map(drop))
            }
            0..=5 if !ids.is_empty() => {
                let id = ids[(n as usize * 7) % ids.len()].clone();
                (
                    "get",
                    client
                        .get_did(admin(pb::GetDidRequest { id }))
                        .await
                        .map(drop),
                )
            }
            6 if !ids.is_empty() => {
                let request = pb::UpdateDidRequest {
                    id: ids[(n as usize * 3) % ids.len()].clone(),
                    description: Some(format!("updated {n}")),
                    ..Default::default()
                };
                ("update", client.update_did(admin(request)).await.map(drop))
            }
            7 => {
                let request = pb::ListDidsRequest {
                    limit: 20,
                    search: "soak 1".into(),
                    ..Default::default()
                };
                let listed = async {
                    let mut stream = client.list_dids(admin(request)).await?.into_inner();
                    while stream.message().await?.is_some() {}
                    Ok(())
                };
                ("list page", listed.await)
            }
            8 => {
                // Every page, but the client walks away after two.
                let request = pb::ListDidsRequest {
                    limit: 100,
                    all_pages: true,
                    ..Default::default()
                };
                let walked = async {
                    let mut stream = client.list_dids(admin(request)).await?.into_inner();
                    for _ in 0..2 {
                        if stream.message().await?.is_none() {
                            break;
                        }
                    }
                    Ok(())
                };
                ("list, walk away", walked.await)
            }
            _ => {
                // A deadline too short for the whole inventory.
                let mut request = admin(pb::ListDidsRequest {
                    limit: 100,
                    all_pages: true,
                    ..Default::default()
                });
                request.set_timeout(Duration::from_millis(20));
                let streamed = async {
                    let mut stream = client.list_dids(request).await?.into_inner();
                    while stream.message().await?.is_some() {}
                    Ok(())
                };
                ("list, 20 ms deadline", streamed.await)
            }
        };
        tally
            .lock()
            .unwrap()
            .record(kind, started.elapsed(), outcome);
    }
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    // BENCH_CLIENT_LOG=h2=debug, say, shows what the client's HTTP/2 does.
    if let Ok(filter) = std::env::var("BENCH_CLIENT_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let server = Server::start().await;
    let channel = server.channel().await;
    server.report("start");
    let until = Instant::now() + Duration::from_secs(seconds);
    let inventory = std::env::var("SOAK_INVENTORY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let workers = (0..WORKERS)
        .map(|w| tokio::spawn(worker(channel.clone(), w, until, inventory, tally.clone())));
    let sampler = async {
        let mut peak = 0.0f64;
        while Instant::now() < until {
            tokio::time::sleep(Duration::from_secs(60).min(until - Instant::now())).await;
            let (rss, _, _) = server.memory();
            peak = peak.max(rss);
            server.report("sample");
        }
        peak
    };
    let (_, peak) = tokio::join!(futures::future::join_all(workers), sampler);
    server.report("end");
    println!("highest RSS sampled: {peak:.1} MiB");

    let tally = tally.lock().unwrap();
    let total: usize = tally.latencies.values().map(Vec::len).sum();
    println!(
        "\n{total} calls in {seconds} s ({:.0}/s)",
        total as f64 / seconds as f64
    );
    for (kind, latencies) in &tally.latencies {
        let mut sorted = latencies.clone();
        sorted.sort();
        let at = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
        println!(
            "{kind:<22} {:>8} calls  p50 {:>9.2?}  p99 {:>9.2?}",
            sorted.len(),
            at(0.5),
            at(0.99)
        );
    }
    println!("\nnot OK, by kind and code:");
    for ((kind, code), count) in &tally.codes {
        println!("{kind:<22} {code:<48} {count}");
    }
}
