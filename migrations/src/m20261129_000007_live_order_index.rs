//! Indexes for the default order (creation time, then id), so that the
//! default list, a deep `page` of it, and a country's first page walk an
//! index in order instead of reading and sorting rows.
//!
//! - Live items in that order: a partial index on PostgreSQL and SQLite.
//!   MariaDB has no partial index; there `deleted_at` trails the key, so a
//!   deep page still walks the index alone. (Leading with it instead makes
//!   MariaDB read a keyset batch by `ref` from the top of the live rows.)
//! - SQLite: a country's items in that order. Its planner otherwise sorts
//!   all of the country's rows rather than walk the order and stop at the
//!   page's end (PostgreSQL and MariaDB choose well without it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000007_live_order_index"
    }
}

const TABLES: [&str; 2] = ["dids", "sender_ids"];

fn indexes(backend: DbBackend, table: &str) -> Vec<(String, String)> {
    let live = format!("{table}_live_created_at_id_idx");
    match backend {
        DbBackend::MySql => vec![(
            live.clone(),
            format!("CREATE INDEX {live} ON {table} (created_at, id, deleted_at)"),
        )],
        _ => {
            let mut indexes = vec![(
                live.clone(),
                format!("CREATE INDEX {live} ON {table} (created_at, id) WHERE deleted_at IS NULL"),
            )];
            if backend == DbBackend::Sqlite {
                let country = format!("{table}_country_created_at_id_idx");
                indexes.push((
                    country.clone(),
                    format!("CREATE INDEX {country} ON {table} (country, created_at, id)"),
                ));
            }
            indexes
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            for (_, create) in indexes(manager.get_database_backend(), table) {
                db.execute_unprepared(&create).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for (name, _) in indexes(manager.get_database_backend(), table) {
                manager
                    .drop_index(Index::drop().name(name).table(table).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
