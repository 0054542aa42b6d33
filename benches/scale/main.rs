//! The service at the size it is built for, beside each engine's own speed
//! on the same work, measured in the same run.
//!
//! `cargo bench --bench scale` seeds `BENCH_ROWS` DIDs (default 1,000,000;
//! 2 % deleted) into the service's own schema on SQLite, and on PostgreSQL
//! and MariaDB when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name a server (a
//! database is made for the run and dropped after). It seeds in SQL, starts
//! the real binary on it, and prints one table per engine: each figure, the
//! engine's (or a bare tonic server's) own figure for the same work, their
//! ratio, and the target of issue 10. On a shared 2-core machine only the
//! ratios hold. It asserts nothing.

mod reference;
#[path = "../support/mod.rs"]
mod support;

use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use reference::Engine;
use std::time::{Duration, Instant};
use support::Server;
use tonic::Request;
use tonic::transport::Channel;

/// One organization of the hundred that hold a third of the DIDs.
const ORGANIZATION: &str = "00000000-0000-7000-8000-000000000003";
const SAMPLES: usize = 11;

fn admin<T>(message: T) -> Request<T> {
    caller(message, "admin", None)
}

fn caller<T>(message: T, role: &str, organization: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("x-user-id", reference::ADMIN.parse().unwrap());
    metadata.insert("x-role", role.parse().unwrap());
    if let Some(organization) = organization {
        metadata.insert("x-organization-id", organization.parse().unwrap());
    }
    request
}

/// The median of `SAMPLES` runs of `call`, after one warm-up.
async fn median<F: Future<Output = ()>>(mut call: impl FnMut() -> F) -> Duration {
    call().await;
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        call().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[SAMPLES / 2]
}

/// The first page of a list, read to its end.
async fn first_page(client: &DidServiceClient<Channel>, request: Request<pb::ListDidsRequest>) {
    let mut stream = client
        .clone()
        .list_dids(request)
        .await
        .unwrap()
        .into_inner();
    while stream.message().await.unwrap().is_some() {}
}

/// Calls per second of `call` from `tasks` concurrent tasks over `channels`
/// connections, for `period`.
async fn rate<F>(
    channels: &[Channel],
    tasks: usize,
    period: Duration,
    call: impl Fn(Channel, u64) -> F + Clone + Send + 'static,
) -> f64
where
    F: Future<Output = ()> + Send,
{
    let until = Instant::now() + period;
    let workers = (0..tasks).map(|task| {
        let channel = channels[task % channels.len()].clone();
        let call = call.clone();
        tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                call(channel.clone(), done * tasks as u64 + task as u64).await;
                done += 1;
            }
            done
        })
    });
    let total: u64 = futures::future::join_all(workers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    total as f64 / period.as_secs_f64()
}

/// Four connections, as h2load `-c4` makes.
async fn connections<F: Future<Output = Channel>>(connect: impl Fn() -> F) -> Vec<Channel> {
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(connect().await);
    }
    channels
}

/// GetDid calls per second over `channels`, 32 in flight on each, cycling
/// through `ids`.
async fn get_rate(channels: &[Channel], ids: &[String], period: Duration) -> f64 {
    let ids = std::sync::Arc::new(ids.to_vec());
    rate(channels, 32 * channels.len(), period, move |channel, n| {
        let id = ids[n as usize % ids.len()].clone();
        async move {
            DidServiceClient::new(channel)
                .get_did(admin(pb::GetDidRequest { id }))
                .await
                .unwrap();
        }
    })
    .await
}

/// One line of the table.
struct Figure {
    what: String,
    ours: String,
    reference: String,
    ratio: String,
    target: &'static str,
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn per_second(rate: f64, unit: &str) -> String {
    format!("{:.1}k {unit}/s", rate / 1000.0)
}

fn line(what: &str, ours: String, target: &'static str) -> Figure {
    Figure {
        what: what.into(),
        ours,
        reference: String::new(),
        ratio: String::new(),
        target,
    }
}

fn compared(what: &str, ours: f64, theirs: f64, unit: &str, target: &'static str) -> Figure {
    Figure {
        what: what.into(),
        ours: per_second(ours, unit),
        reference: per_second(theirs, unit),
        ratio: format!("{:.0} %", 100.0 * ours / theirs),
        target,
    }
}

async fn measure(engine: &Engine, rows: u64) -> Vec<Figure> {
    let mut figures = Vec::new();
    let seeded = Instant::now();
    engine.seed(rows).await;
    eprintln!(
        "{}: seeded {rows} rows in {:?}",
        engine.name(),
        seeded.elapsed()
    );

    let (server, cold_start) = Server::serving(&engine.url()).await;
    figures.push(line("cold start to SERVING", ms(cold_start), "≤ 200 ms"));
    let channel = server.channel().await;
    let client = DidServiceClient::new(channel.clone());

    let count = engine.count_live().await;
    let lists = [
        (
            "first page + total, no filter",
            pb::ListDidsRequest::default(),
        ),
        (
            "… status active",
            pb::ListDidsRequest {
                status: Some(pb::Status::Active as i32),
                ..Default::default()
            },
        ),
        (
            "… one country",
            pb::ListDidsRequest {
                countries: vec!["MA".into()],
                ..Default::default()
            },
        ),
        (
            "… one organization",
            pb::ListDidsRequest {
                organization_id: Some(ORGANIZATION.into()),
                ..Default::default()
            },
        ),
    ];
    for (what, request) in lists {
        let took = median(|| first_page(&client, admin(request.clone()))).await;
        let mut figure = line(what, ms(took), "≤ 10 ms");
        figure.reference = format!("count(*) {}", ms(count));
        figures.push(figure);
    }
    let took = median(|| async {
        let request = caller(
            pb::ListAvailableDidsRequest::default(),
            "reseller",
            Some(ORGANIZATION),
        );
        let mut stream = client
            .clone()
            .list_available_dids(request)
            .await
            .unwrap()
            .into_inner();
        while stream.message().await.unwrap().is_some() {}
    })
    .await;
    figures.push(line("a reseller's ListAvailableDids", ms(took), "≤ 10 ms"));
    let lookup = pb::ListDidsRequest {
        numbers: vec![reference::number(rows / 2), reference::number(rows / 3)],
        ..Default::default()
    };
    let took = median(|| first_page(&client, admin(lookup.clone()))).await;
    figures.push(line("`numbers` filter, two numbers", ms(took), "≤ 5 ms"));
    let search = pb::ListDidsRequest {
        search: "55512".into(),
        ..Default::default()
    };
    let took = median(|| first_page(&client, admin(search.clone()))).await;
    figures.push(line("search for 55512", ms(took), "≤ 50 ms"));
    let deep = pb::ListDidsRequest {
        page: 5000,
        limit: 100,
        ..Default::default()
    };
    let took = median(|| first_page(&client, admin(deep.clone()))).await;
    figures.push(line("page 5,000 of 100", ms(took), "≤ 150 ms"));

    // Every live DID, newest first, pages of 100, against the engine's own
    // client dumping the same rows in the same order.
    let before = server.memory().0;
    let started = Instant::now();
    let mut stream = client
        .clone()
        .list_dids(admin(pb::ListDidsRequest {
            limit: 100,
            all_pages: true,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let mut streamed = 0u64;
    let mut peak = before;
    while let Some(page) = stream.message().await.unwrap() {
        streamed += page.data.len() as u64;
        if streamed % 100_000 < 100 {
            peak = peak.max(server.memory().0);
        }
    }
    let ours = streamed as f64 / started.elapsed().as_secs_f64();
    match engine.dump_rate().await {
        Some(theirs) => figures.push(compared(
            "every live DID streamed, pages of 100",
            ours,
            theirs,
            "rows",
            "≥ 50 %",
        )),
        None => figures.push(line(
            "every live DID streamed (no engine client)",
            per_second(ours, "rows"),
            "≥ 50 %",
        )),
    }
    figures.push(line(
        "server memory growth while streaming",
        format!("{:.1} MiB", peak - before),
        "< 30 MiB",
    ));

    // GetDid, as h2load -c4 -m32 would: 4 connections, 32 calls in flight
    // on each, against a bare tonic server answering from memory.
    let channels = connections(|| server.channel()).await;
    let ids = engine.sample_ids(1000).await;
    let period = Duration::from_secs(5);
    let ours = get_rate(&channels, &ids, period).await;
    let bare = reference::BareTonic::start(&ids).await;
    let theirs = get_rate(&connections(|| bare.channel()).await, &ids, period).await;
    drop(bare);
    figures.push(compared(
        "GetDid, 4 connections × 32",
        ours,
        theirs,
        "calls",
        engine.get_target(),
    ));
    if let Some(point) = engine.point_select_rate(&ids).await {
        figures.push(compared(
            "GetDid against the engine's point select",
            ours,
            point,
            "calls",
            "≥ 50 % (PostgreSQL)",
        ));
    }

    // CreateDid, 16 callers.
    let created = rate(&channels, 16, period, move |channel, n| async move {
        DidServiceClient::new(channel)
            .create_did(admin(pb::CreateDidRequest {
                number: format!("+9{:011}", n),
                country: "US".into(),
                ..Default::default()
            }))
            .await
            .unwrap();
    })
    .await;
    figures.push(line(
        "CreateDid, 16 callers",
        per_second(created, "calls"),
        "≥ 5k/s (PostgreSQL)",
    ));
    drop(server);
    figures
}

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for engine in Engine::configured().await {
        let figures = measure(&engine, rows).await;
        println!(
            "\n{} ({rows} DIDs, {} live)\n",
            engine.name(),
            rows - rows / 50
        );
        println!("| what (medians) | numbering | reference | ratio | target |");
        println!("|---|---|---|---|---|");
        for Figure {
            what,
            ours,
            reference,
            ratio,
            target,
        } in figures
        {
            println!("| {what} | {ours} | {reference} | {ratio} | {target} |");
        }
        engine.drop_database().await;
    }
}
