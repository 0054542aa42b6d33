//! The binary: `migrate` applies the schema and exits; bad settings fail
//! with a message, not a panic.

use sea_orm::{ConnectionTrait, Database, Statement};
use std::process::Command;

fn numbering(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_numbering"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn migrate_creates_the_schema_and_exits() {
    let path = std::env::temp_dir().join(format!("numbering-cli-{}.db", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}?mode=rwc", path.display());

    let output = numbering(&["migrate", "--database-url", &url]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let db = Database::connect(&url).await.unwrap();
    let tables = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('dids', 'sender_ids')",
        ))
        .await
        .unwrap();
    assert_eq!(tables.len(), 2);
    db.close().await.ok();
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
}

#[test]
fn an_unusable_database_url_fails_with_a_message() {
    let output = numbering(&["migrate", "--database-url", "nosuchdb://nowhere"]);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unknown_auth_mode_is_refused_by_name() {
    let output = numbering(&["--auth", "nobody", "migrate"]);

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--auth"));
}
