//! On PostgreSQL a write no longer takes the one `revision_head` row: its
//! revisions come from its own transaction id (see the service's
//! `store/revisions.rs`), and watchers poll for the horizon instead of being
//! notified. The notifying trigger goes: `NOTIFY` takes a lock at commit
//! that queues every notifying transaction behind the one before, through
//! its WAL flush. MariaDB and SQLite keep the counter row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_revisions_from_transactions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP FUNCTION IF EXISTS revision_head_notify() CASCADE")
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION revision_head_notify() RETURNS trigger LANGUAGE plpgsql AS \
             $notify$ BEGIN PERFORM pg_notify('numbering_changes', NEW.revision::text); \
             RETURN NULL; END $notify$",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER revision_head_notify AFTER UPDATE ON revision_head \
             FOR EACH ROW EXECUTE FUNCTION revision_head_notify()",
        )
        .await
        .map(drop)
    }
}
