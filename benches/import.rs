//! Bulk import at the size an operator loads, beside the engine's own bulk
//! insert of the same rows, measured in the same run.
//!
//! `cargo bench --bench import` imports `BENCH_IMPORT_ROWS` DIDs (default
//! 100,000) on SQLite, and on PostgreSQL and MariaDB when
//! `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name a server (a database is made
//! for each run and dropped after), three ways:
//!
//! - `ImportDids` from a client that streams 1000-row messages (the
//!   service's own rate);
//! - `numbering import dids FILE.csv`, the CLI, end to end (CSV parsing,
//!   the stream, the rejected-rows bookkeeping);
//! - the engine's own `INSERT … SELECT` of as many rows into the same
//!   schema (triggers and indexes included), which writes the items but
//!   not their changes: a ceiling, not the same work.
//!
//! It also reports the server's memory before and after each import. It
//! prints figures; it asserts nothing. The target (issue 12) is ≥ 20,000
//! rows/s on PostgreSQL.

#[allow(dead_code)]
#[path = "scale/reference.rs"]
mod reference;
#[path = "support/mod.rs"]
mod support;

use futures::StreamExt;
use numbering::config::{JwtSettings, Settings, TokenRequest};
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use reference::Engine;
use std::time::{Duration, Instant};
use support::Server;

const SECRET: &str = "an-import-benchmark-secret-of-32-bytes!";

fn token() -> String {
    let jwt = JwtSettings {
        secret: Some(SECRET.into()),
        ..Settings::defaults().jwt
    };
    let request = TokenRequest {
        role: "admin".into(),
        sub: Some(reference::ADMIN.into()),
        org: None,
        scope: None,
        ttl: Duration::from_secs(3600),
    };
    numbering::auth::mint_token(&request, &jwt).unwrap()
}

fn number(offset: u64, n: u64) -> String {
    format!("+1{:010}", offset + n)
}

/// Streams `rows` DIDs from `offset` in 1000-row messages; rows per second.
async fn import_rpc(server: &Server, offset: u64, rows: u64) -> f64 {
    let client = DidServiceClient::new(server.channel().await);
    let messages =
        futures::stream::iter((0..rows).step_by(1000)).map(move |start| pb::ImportDidsRequest {
            rows: (start..(start + 1000).min(rows))
                .map(|n| pb::CreateDidRequest {
                    number: number(offset, n),
                    country: "US".into(),
                    description: Some(format!("line {n}")),
                    ..Default::default()
                })
                .collect(),
            atomic: false,
        });
    let mut request = tonic::Request::new(messages);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", token()).parse().unwrap(),
    );
    let started = Instant::now();
    let mut replies = client
        .max_decoding_message_size(16 << 20)
        .clone()
        .import_dids(request)
        .await
        .unwrap()
        .into_inner();
    let mut created = 0u64;
    while let Some(reply) = replies.message().await.unwrap() {
        created += reply
            .results
            .iter()
            .filter(|row| matches!(row.result, Some(pb::import_row_result::Result::Id(_))))
            .count() as u64;
    }
    assert_eq!(created, rows, "every row created");
    rows as f64 / started.elapsed().as_secs_f64()
}

/// `numbering import dids FILE` of `rows` DIDs from `offset`; rows per
/// second, wall time of the whole command.
fn import_cli(server: &Server, offset: u64, rows: u64) -> f64 {
    let path = std::env::temp_dir().join(format!("numbering-import-{}.csv", uuid::Uuid::now_v7()));
    let mut csv = String::from("number,country,description,status\n");
    for n in 0..rows {
        csv.push_str(&format!("{},US,line {n},active\n", number(offset, n)));
    }
    std::fs::write(&path, csv).unwrap();
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_numbering"))
        .args(["import", "dids"])
        .arg(&path)
        .env("NUMBERING_SERVER", format!("http://{}", server.address))
        .env("NUMBERING_TOKEN", token())
        .output()
        .unwrap();
    let took = started.elapsed();
    std::fs::remove_file(&path).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    rows as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::var("BENCH_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("numbering import: {rows} DIDs per import, 1000 rows per message\n");
    println!(
        "{:<12} {:>14} {:>14} {:>16} {:>8} {:>22}",
        "engine", "ImportDids", "CLI", "engine INSERT", "ratio", "server RSS (MiB)"
    );
    // One database per engine for the imports, one for the reference.
    let references = Engine::configured().await;
    for (engine, reference) in Engine::configured().await.into_iter().zip(references) {
        let (server, _) =
            Server::serving_with(&engine.url(), &["--auth", "jwt", "--jwt-secret", SECRET]).await;
        let (before, _, _) = server.memory();
        let rpc = import_rpc(&server, 0, rows).await;
        let cli = import_cli(&server, rows, rows);
        let (after, peak, _) = server.memory();
        drop(server);
        engine.drop_database().await;
        // The engine's own insert of as many rows, into a fresh schema.
        let inserted = reference.seed(rows).await;
        reference.drop_database().await;
        let own = rows as f64 / inserted.as_secs_f64();
        println!(
            "{:<12} {:>10.0} r/s {:>10.0} r/s {:>12.0} r/s {:>7.0}% {:>8.0} → {:.0} (peak {:.0})",
            engine.name(),
            rpc,
            cli,
            own,
            100.0 * rpc / own,
            before,
            after,
            peak
        );
    }
    println!("\nratio: ImportDids against the engine's own INSERT … SELECT (items only).");
    println!("target (issue 12): ImportDids ≥ 20,000 rows/s on PostgreSQL.");
}
