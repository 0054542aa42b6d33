//! `numbering import` and `numbering export` against a live server, as an
//! operator runs them (standard error not a terminal): progress lines, a
//! summary, the rejected rows beside the input, exit codes, and an export
//! that imports into an empty server as the same inventory.

use crate::helpers::{Engine, TestApp};
use numbering::config::{AuthMode, JwtSettings, TokenRequest};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

const SECRET: &str = "a-secret-of-at-least-thirty-two-bytes!!";

async fn server(engine: Engine) -> TestApp {
    TestApp::spawn_with(engine, |settings| {
        settings.auth = AuthMode::Jwt;
        settings.jwt.secret = Some(SECRET.into());
    })
    .await
}

fn token(role: &str) -> String {
    let jwt = JwtSettings {
        secret: Some(SECRET.into()),
        ..numbering::config::Settings::defaults().jwt
    };
    let request = TokenRequest {
        role: role.into(),
        sub: None,
        org: (role == "reseller").then(|| uuid::Uuid::now_v7().to_string()),
        scope: None,
        ttl: Duration::from_secs(600),
    };
    numbering::auth::mint_token(&request, &jwt).unwrap()
}

/// Runs `numbering ARGS` as a client of `server` with `token`.
async fn numbering(server: &str, token: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_numbering"));
    command
        .args(args)
        .env("NUMBERING_SERVER", server)
        .env("NUMBERING_TOKEN", token)
        .env_remove("DATABASE_URL");
    command.output().await.expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("numbering-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The rows of a CSV file by column name.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// What makes two inventories the same: each item's identifier, country,
/// description, status and holder.
fn inventory(path: &Path, value: &str) -> BTreeSet<[String; 5]> {
    rows(path)
        .into_iter()
        .map(|row| {
            [value, "country", "description", "status", "organization_id"]
                .map(|column| row[column].clone())
        })
        .collect()
}

async fn an_export_imports_into_an_empty_server_as_the_same_inventory(engine: Engine) {
    let first = server(engine).await;
    let address = format!("http://{}", first.address);
    let admin = token("admin");
    let acme = uuid::Uuid::now_v7().to_string();
    let input = scratch("carrier.csv");
    let mut csv = String::from("number,country,description,status,organization_id\n");
    for n in 0..2500 {
        // Some long ones: a thousand rows of them are more than a message
        // may carry, so the client must cut its batches by size too.
        let long = "é".repeat(200);
        let description = match n % 7 {
            0 => long.as_str(),
            _ if n % 3 == 0 => "",
            _ => "from the \"carrier\", batch 7",
        };
        let status = ["active", "INACTIVE", "", "reserved"][n % 4];
        let holder = if n % 10 == 0 { acme.as_str() } else { "" };
        csv.push_str(&format!(
            "+2125{n:08},MA,\"{}\",{status},{holder}\n",
            description.replace('"', "\"\"")
        ));
    }
    csv.push_str("+21250000000a,MA,,active,\n");
    csv.push_str("+212500000007,MA,,active,\n");
    csv.push_str("+212599999999,ZZ,,active,\n");
    csv.push_str("+212599999998,MA,,sold,\n");
    std::fs::write(&input, csv).unwrap();

    let output = numbering(
        &address,
        &admin,
        &["import", "dids", input.to_str().unwrap()],
    )
    .await;
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "some rows rejected: {said}");
    assert!(said.contains("rows imported"), "a progress line: {said}");
    assert!(said.contains("imported 2500 of 2504 DIDs"), "{said}");
    assert!(said.contains("carrier.rejected.csv"), "{said}");
    let rejected = rows(&input.with_extension("rejected.csv"));
    let reasons: Vec<(&str, &str)> = rejected
        .iter()
        .map(|row| (row["line"].as_str(), row["reason"].as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].0 == "2502" && reasons[0].1.contains("INVALID_FIELD (number)"));
    assert!(
        reasons[1].1.contains("ALREADY_EXISTS DID_NUMBER_TAKEN"),
        "{reasons:?}"
    );
    assert!(reasons[2].1.contains("(country)"), "{reasons:?}");
    assert!(reasons[3].1.starts_with("status:"), "{reasons:?}");
    assert_eq!(rejected[1]["number"], "+212500000007", "the row as it was");

    let exported = scratch("dids.csv");
    let output = numbering(
        &address,
        &admin,
        &["export", "dids", exported.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("exported 2500 DIDs"),
        "{}",
        stderr(&output)
    );
    let held = inventory(&exported, "number");
    assert_eq!(held.len(), 2500);
    assert_eq!(held.iter().filter(|row| row[4] == acme).count(), 250);
    assert!(held.contains(&[
        "+212500000001".into(),
        "MA".into(),
        "from the \"carrier\", batch 7".into(),
        "inactive".into(),
        String::new(),
    ]));

    // Into an empty server: the same inventory.
    let second = server(engine).await;
    let there = format!("http://{}", second.address);
    let output = numbering(
        &there,
        &admin,
        &["import", "dids", exported.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let again = scratch("again.csv");
    let output = numbering(&there, &admin, &["export", "dids", again.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(inventory(&again, "number"), held);

    // Sender IDs, exported to standard output.
    let senders = scratch("senders.csv");
    std::fs::write(
        &senders,
        "sender_id,country,description\nACME,MA,Acme\nACME,FR,\nGlobex,MA,x\n",
    )
    .unwrap();
    let output = numbering(
        &address,
        &admin,
        &["import", "sender-ids", senders.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let output = numbering(&address, &admin, &["export", "sender-ids"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.starts_with("id,sender_id,country,description,status"),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 4);
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn the_cli_says_why_it_cannot_work() {
    let app = server(Engine::Sqlite).await;
    let address = format!("http://{}", app.address);
    let input = scratch("few.csv");
    std::fs::write(&input, "number,country\n+212500000001,MA\n").unwrap();
    let path = input.to_str().unwrap();

    let cases = [
        (
            "http://127.0.0.1:1",
            token("admin"),
            "cannot reach the server at http://127.0.0.1:1",
        ),
        (
            address.as_str(),
            "not-a-token".to_owned(),
            "refused the token",
        ),
        (address.as_str(), token("reseller"), "refused the call"),
    ];
    for (server, token, said) in cases {
        let output = numbering(server, &token, &["import", "dids", path]).await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains(said), "{}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"));
    }
    let missing = input.with_file_name("missing.csv");
    let output = numbering(
        &address,
        &token("admin"),
        &["import", "dids", missing.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("missing.csv"),
        "{}",
        stderr(&output)
    );
    let headless = input.with_file_name("headless.csv");
    std::fs::write(&headless, "+212500000001,MA\n").unwrap();
    let output = numbering(
        &address,
        &token("admin"),
        &["import", "dids", headless.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("must name the columns number and country"),
        "{}",
        stderr(&output)
    );
    let output = numbering(&address, &token("admin"), &["import", "dids", path]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    app.stop().await;
}

crate::for_every_engine!(an_export_imports_into_an_empty_server_as_the_same_inventory);
