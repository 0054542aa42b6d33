//! The binary: `migrate` applies the schema and exits; bad settings fail
//! with a message, not a panic.

use crate::helpers::Engine;
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

/// Two replicas starting together against an empty database take turns
/// migrating it: both succeed, and each migration is recorded once.
async fn two_processes_migrating_one_empty_database_both_succeed(engine: Engine) {
    use crate::helpers::TestDatabase;
    for round in 0..3 {
        let database = TestDatabase::create(engine).await;
        let url = database.url.clone();
        let migrate = || {
            let url = url.clone();
            tokio::task::spawn_blocking(move || numbering(&["migrate", "--database-url", &url]))
        };
        let (first, second) = tokio::join!(migrate(), migrate());

        for output in [first.unwrap(), second.unwrap()] {
            assert!(
                output.status.success(),
                "{engine:?}, round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let db = Database::connect(&url).await.unwrap();
        let recorded = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n, COUNT(DISTINCT version) AS d FROM seaql_migrations",
            ))
            .await
            .unwrap()
            .unwrap();
        let (n, distinct): (i64, i64) = (
            recorded.try_get("", "n").unwrap(),
            recorded.try_get("", "d").unwrap(),
        );
        assert!(
            n > 0 && n == distinct,
            "{engine:?}: {n} records, {distinct} distinct"
        );
        db.close().await.ok();
    }
}

/// Descriptions written before the search key existed are found by the
/// folded search once the migration has filled their key; the later
/// migrations (kept counts, search indexes) fill from existing rows too, and
/// every migration from there down and up again runs on every engine.
async fn the_search_key_migration_fills_existing_descriptions(engine: Engine) {
    use crate::helpers::{Identity, TestApp};
    use crate::resources::{Dids, ListParams, Resource};
    use sea_orm_migration::MigratorTrait;
    let app = TestApp::spawn(engine).await;
    let api = Dids::new(&app);
    let old = api
        .create(&Identity::admin(), "+212500000001", "MA", Some("ÉCOLE"), 0)
        .await
        .unwrap();
    // As before the migration: no key, and the migration not applied.
    let db = Database::connect(app.database_url()).await.unwrap();
    db.execute_unprepared("UPDATE dids SET description_key = NULL")
        .await
        .unwrap();
    // Every migration from the key migration on.
    let names: Vec<String> = migrations::Migrator::migrations()
        .iter()
        .map(|m| sea_orm_migration::MigrationName::name(m.as_ref()).to_owned())
        .collect();
    let key = names
        .iter()
        .position(|name| name.ends_with("description_search_key"))
        .unwrap();
    let steps = u32::try_from(names.len() - key).unwrap();
    migrations::Migrator::down(&db, Some(steps)).await.unwrap();
    migrations::Migrator::up(&db, None).await.unwrap();
    db.close().await.ok();

    let pages = api
        .list(
            &Identity::admin(),
            ListParams {
                search: "ecole".into(),
                ..ListParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(pages[0].data.len(), 1, "{engine:?}");
    assert_eq!(pages[0].data[0].id, old.id);
    // The kept counts were filled from the rows already there.
    let unfiltered = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();
    assert_eq!(unfiltered[0].meta.total, 1, "{engine:?}");
    app.stop().await;
}

crate::for_every_engine!(
    two_processes_migrating_one_empty_database_both_succeed,
    the_search_key_migration_fills_existing_descriptions,
);
