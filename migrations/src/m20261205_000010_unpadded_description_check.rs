//! MariaDB compares `utf8mb4_bin` text with PAD SPACE: `' ' <> ''` is false
//! there, so its check that a description is never the empty string also
//! refused a description of only spaces, which PostgreSQL and SQLite store.
//! The check counts characters instead, which no collation pads.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000010_unpadded_description_check"
    }
}

const TABLES: [&str; 2] = ["dids", "sender_ids"];

async fn replace_check(manager: &SchemaManager<'_>, condition: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::MySql {
        return Ok(());
    }
    let db = manager.get_connection();
    for table in TABLES {
        let name = format!("{table}_description_check");
        db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
            .await?;
        db.execute_unprepared(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})"
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_check(manager, "CHAR_LENGTH(description) > 0").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_check(manager, "description <> ''").await
    }
}
