//! An index of live items in the default order (creation time, then id), so
//! that the default list and a deep `page` of it walk an index that answers
//! "is it live?" by itself, instead of reading each skipped row from the
//! table. PostgreSQL and SQLite take a partial index; MariaDB, which has
//! none, leads the index with `deleted_at` (live rows are its NULL range).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000007_live_order_index"
    }
}

const TABLES: [&str; 2] = ["dids", "sender_ids"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            let index = format!("{table}_live_created_at_id_idx");
            db.execute_unprepared(&match manager.get_database_backend() {
                DbBackend::MySql => {
                    format!("CREATE INDEX {index} ON {table} (deleted_at, created_at, id)")
                }
                _ => format!(
                    "CREATE INDEX {index} ON {table} (created_at, id) WHERE deleted_at IS NULL"
                ),
            })
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("{table}_live_created_at_id_idx"))
                        .table(table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
