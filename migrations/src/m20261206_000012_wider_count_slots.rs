//! The kept counts spread each cell over 64 rows instead of 16. A write
//! holds the count row it updated until it commits; once writers stopped
//! queueing on the revision counter (PostgreSQL), sixteen writers of one
//! status and country met on those rows instead, one in two waiting. A
//! count now sums up to 64 rows per cell. SQLite takes one writer at a time
//! and keeps its single row.

use super::m20261127_000005_kept_counts::{TABLES, postgres_function, row_triggers};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_wider_count_slots"
    }
}

async fn spread(manager: &SchemaManager<'_>, slots: u32) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            for (_, counts) in TABLES {
                let function = postgres_function(counts, slots).replacen(
                    "CREATE FUNCTION",
                    "CREATE OR REPLACE FUNCTION",
                    1,
                );
                db.execute_unprepared(&function).await?;
            }
        }
        DbBackend::MySql => {
            for (table, counts) in TABLES {
                for event in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_count_{event}"))
                        .await?;
                }
                let slot = format!("FLOOR(RAND() * {slots})");
                for trigger in row_triggers(DbBackend::MySql, table, counts, &slot) {
                    db.execute_unprepared(&trigger).await?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        spread(manager, 64).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        spread(manager, 16).await
    }
}
