//! Writers at once: `CreateDid` from one caller and from sixteen against the
//! real binary, the server's CPU time per call, and on PostgreSQL pgbench
//! doing the same inserts in the same run (the item with its indexes and
//! its change row, the revision from a sequence, in one statement).
//!
//! Then `GetDid` from 16 callers, its server CPU per call beside a bare
//! tonic server's answering the same DIDs from memory (on SQLite the
//! database's own work is in the server's figure).
//!
//! `BENCH_DATABASE_URL` names an existing, empty database (default: a new
//! SQLite file); `BENCH_SECONDS` sets each run's length (default 10). It
//! prints figures; it asserts nothing.

#[allow(dead_code)]
#[path = "scale/reference.rs"]
mod reference;
mod support;

use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::Server;
use tonic::Request;
use tonic::transport::Channel;

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

/// The server's user + system CPU time so far.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// `callers` callers creating DIDs for `length`: calls per second, and the
/// server's CPU time per call.
async fn creates(
    server: &Server,
    channel: &Channel,
    callers: u64,
    length: Duration,
) -> (f64, Duration) {
    let counter = Arc::new(AtomicU64::new(0));
    let before = cpu(server.pid());
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let mut client = DidServiceClient::new(channel.clone());
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while started.elapsed() < length {
                    let request = pb::CreateDidRequest {
                        number: format!("+1{:03}{:07}", callers * 100 + caller, n),
                        country: "US".into(),
                        description: None,
                        status: 0,
                        request_id: String::new(),
                    };
                    client.create_did(admin(request)).await.expect("create");
                    n += 1;
                }
                counter.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    futures::future::join_all(tasks).await;
    let elapsed = started.elapsed();
    let calls = counter.load(Ordering::Relaxed);
    let used = cpu(server.pid()) - before;
    (
        calls as f64 / elapsed.as_secs_f64(),
        used / calls.max(1) as u32,
    )
}

/// The CPU time of this process's threads named `name`.
fn threads_cpu(name: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        }
    }
    Duration::from_millis(ticks * 10)
}

/// Sixteen callers getting `ids` in turn for `length`: calls per second.
async fn gets(channel: &Channel, ids: &[String], length: Duration) -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|caller| {
            let mut client = DidServiceClient::new(channel.clone());
            let (counter, ids) = (counter.clone(), ids.to_vec());
            tokio::spawn(async move {
                let mut n = caller;
                while started.elapsed() < length {
                    let request = pb::GetDidRequest {
                        id: ids[n % ids.len()].clone(),
                    };
                    client.get_did(admin(request)).await.expect("get");
                    n += 16;
                }
                counter.fetch_add((n - caller) as u64 / 16, Ordering::Relaxed);
            })
        })
        .collect();
    futures::future::join_all(tasks).await;
    counter.load(Ordering::Relaxed)
}

/// `GetDid`'s server CPU per call, against a bare tonic server answering
/// the same DIDs from memory under the same load.
async fn get_cpu(server: &Server, channel: &Channel, length: Duration) {
    let mut client = DidServiceClient::new(channel.clone());
    let mut ids = Vec::new();
    for n in 0..1000 {
        let request = pb::CreateDidRequest {
            number: format!("+1999{n:07}"),
            country: "US".into(),
            description: None,
            status: 0,
            request_id: String::new(),
        };
        let did = client.create_did(admin(request)).await.expect("create");
        ids.push(did.into_inner().did.unwrap().id);
    }
    let before = cpu(server.pid());
    let calls = gets(channel, &ids, length).await;
    let ours = (cpu(server.pid()) - before) / calls.max(1) as u32;
    // The bare server on a runtime of its own, so that its threads' CPU
    // is told apart from the client's.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bare-tonic")
        .enable_all()
        .build()
        .unwrap();
    let served = ids.clone();
    let bare = runtime
        .spawn(async move { reference::BareTonic::start(&served).await })
        .await
        .unwrap();
    let bare_channel = bare.channel().await;
    let before = threads_cpu("bare-tonic");
    let bare_calls = gets(&bare_channel, &ids, length).await;
    let theirs = (threads_cpu("bare-tonic") - before) / bare_calls.max(1) as u32;
    println!(
        "GetDid, 16 callers        {:>8.0} calls/s   server CPU {ours:>7.0?}/call",
        calls as f64 / length.as_secs_f64()
    );
    println!(
        "bare tonic, same load     {:>8.0} calls/s   server CPU {theirs:>7.0?}/call   ratio {:.1}x",
        bare_calls as f64 / length.as_secs_f64(),
        ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9)
    );
    drop(bare);
    runtime.shutdown_background();
}

/// pgbench inserting an item with its indexes and its change, the revision
/// from a sequence, in one statement: transactions per second.
fn pgbench(url: &str, clients: u32, length: Duration) -> f64 {
    let statement = "WITH n AS (SELECT (10000000000 + nextval('pgbench_numbers'))::text AS key), \
        item AS (INSERT INTO pgbench_dids (id, number, number_key, country, status, created_at, \
        updated_at, created_by, updated_by) SELECT gen_random_uuid(), '+' || n.key, n.key, 'US', \
        'active', now(), now(), '0195d7a0-0000-7000-8000-000000000001', \
        '0195d7a0-0000-7000-8000-000000000001' FROM n RETURNING *) \
        INSERT INTO pgbench_did_changes (revision, change_type, changed_at, changed_by, \
        before_live, id, number, number_key, country, status, created_at, updated_at, created_by, \
        updated_by) SELECT nextval('pgbench_revisions'), 'created', updated_at, created_by, false, \
        id, number, number_key, country, status, created_at, updated_at, created_by, updated_by \
        FROM item;\n";
    let script = std::env::temp_dir().join(format!("numbering-pgbench-{}.sql", std::process::id()));
    std::fs::write(&script, statement).unwrap();
    let output = std::process::Command::new("pgbench")
        .args(["-n", "-f"])
        .arg(&script)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &length.as_secs().to_string(),
        ])
        .arg(url)
        .output()
        .expect("pgbench runs");
    std::fs::remove_file(&script).ok();
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench said: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql: {sql}");
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let length = Duration::from_secs(seconds);
    let sqlite =
        std::env::temp_dir().join(format!("numbering-writers-{}.db", uuid::Uuid::now_v7()));
    let url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", sqlite.display()));
    let (server, _) = Server::serving(&url).await;
    let channel = server.channel().await;
    let engine = url.split(':').next().unwrap_or("?");
    println!("numbering writers on {engine}, {seconds} s per run\n");
    let (one, one_cpu) = creates(&server, &channel, 1, length).await;
    println!("CreateDid, 1 caller       {one:>8.0} calls/s   server CPU {one_cpu:>7.0?}/call");
    let (many, many_cpu) = creates(&server, &channel, 16, length).await;
    println!(
        "CreateDid, 16 callers     {many:>8.0} calls/s   server CPU {many_cpu:>7.0?}/call   {:.1}x one caller",
        many / one
    );
    get_cpu(&server, &channel, length).await;
    drop(server);
    if engine.starts_with("postgres") {
        psql(
            &url,
            "DROP TABLE IF EXISTS pgbench_dids, pgbench_did_changes; \
             DROP SEQUENCE IF EXISTS pgbench_revisions, pgbench_numbers; \
             CREATE TABLE pgbench_dids (LIKE dids INCLUDING ALL); \
             CREATE TABLE pgbench_did_changes (LIKE did_changes INCLUDING ALL); \
             CREATE SEQUENCE pgbench_revisions; CREATE SEQUENCE pgbench_numbers;",
        );
        let own_one = pgbench(&url, 1, length);
        let own = pgbench(&url, 16, length);
        println!("pgbench, 1 client         {own_one:>8.0} inserts/s");
        println!(
            "pgbench, 16 clients       {own:>8.0} inserts/s   the service at 16 callers: {:.0} %",
            many / own * 100.0
        );
        psql(
            &url,
            "DROP TABLE pgbench_dids, pgbench_did_changes; \
             DROP SEQUENCE pgbench_revisions, pgbench_numbers;",
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", sqlite.display())).ok();
    }
}
