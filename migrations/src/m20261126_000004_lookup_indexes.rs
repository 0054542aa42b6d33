//! An index on each table's comparison key, for the exact-match filters
//! (`numbers`, `sender_ids`) other services look items up by. MariaDB had
//! none usable (its unique index is over a generated column), so each
//! lookup read the whole table; the partial unique indexes of PostgreSQL and
//! SQLite serve live items only, not `show_deleted`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000004_lookup_indexes"
    }
}

const KEYS: [(&str, &str); 2] = [("dids", "number_key"), ("sender_ids", "sender_id_key")];

fn name(table: &str, key: &str) -> String {
    format!("{table}_{key}_idx")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, key) in KEYS {
            manager
                .create_index(
                    Index::create()
                        .name(name(table, key))
                        .table(table)
                        .col(key)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, key) in KEYS {
            manager
                .drop_index(Index::drop().name(name(table, key)).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
