//! Trigram indexes for `search`, a substring match on the identifier and the
//! description's search key, which otherwise reads every row.
//!
//! - PostgreSQL: `pg_trgm` GIN indexes on exactly the expressions the search
//!   compares (`lower(number)`, `description_key`), so the planner uses them
//!   for `LIKE '%…%'` as it is.
//! - SQLite: an FTS5 table with the trigram tokenizer, kept in step by
//!   triggers. Its rows are keyed by a small table of integer keys, because
//!   the items' own rowids are not stable (their primary key is a UUID, and
//!   VACUUM may renumber such tables).
//! - MariaDB has no trigram index (its FULLTEXT ngram parser is MySQL's), so
//!   a search there still reads every row; see the README.
//!
//! Trigrams need three characters: a shorter search is a scan on every engine.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000006_search_indexes"
    }
}

/// An items table, its identifier column, and the name of its search tables.
const TABLES: [(&str, &str, &str); 2] = [
    ("dids", "number", "did_search"),
    ("sender_ids", "sender_id", "sender_id_search"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: Vec<String> = match manager.get_database_backend() {
            DbBackend::Postgres => std::iter::once("CREATE EXTENSION IF NOT EXISTS pg_trgm".into())
                .chain(
                    TABLES
                        .iter()
                        .flat_map(|&(table, value, _)| postgres(table, value)),
                )
                .collect(),
            DbBackend::Sqlite => TABLES
                .iter()
                .flat_map(|&(table, value, search)| sqlite(table, value, search))
                .collect(),
            _ => Vec::new(),
        };
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, value, search) in TABLES {
            let statements = match manager.get_database_backend() {
                DbBackend::Postgres => vec![
                    format!("DROP INDEX IF EXISTS {table}_{value}_trgm"),
                    format!("DROP INDEX IF EXISTS {table}_description_key_trgm"),
                ],
                DbBackend::Sqlite => {
                    let mut drops: Vec<String> = ["insert", "update", "delete"]
                        .iter()
                        .map(|event| format!("DROP TRIGGER IF EXISTS {table}_search_{event}"))
                        .collect();
                    drops.push(format!("DROP TABLE IF EXISTS {search}"));
                    drops.push(format!("DROP TABLE IF EXISTS {search}_keys"));
                    drops
                }
                _ => Vec::new(),
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}

fn postgres(table: &str, value: &str) -> [String; 2] {
    [
        format!(
            "CREATE INDEX {table}_{value}_trgm ON {table} USING gin (lower({value}) gin_trgm_ops)"
        ),
        format!(
            "CREATE INDEX {table}_description_key_trgm ON {table} \
             USING gin (description_key gin_trgm_ops)"
        ),
    ]
}

/// `{search}` holds each item's id, identifier and description key under the
/// integer key `{search}_keys` gives its id.
fn sqlite(table: &str, value: &str, search: &str) -> Vec<String> {
    let keys = format!("{search}_keys");
    let key_of = |row: &str| format!("(SELECT rowid FROM {keys} WHERE id = {row}.id)");
    vec![
        format!("CREATE TABLE {keys} (rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE)"),
        format!(
            "CREATE VIRTUAL TABLE {search} USING fts5(id UNINDEXED, value, description_key, \
             tokenize = 'trigram')"
        ),
        format!(
            "CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} BEGIN \
               INSERT INTO {keys} (id) VALUES (NEW.id); \
               INSERT INTO {search} (rowid, id, value, description_key) \
               VALUES ({key}, NEW.id, NEW.{value}, NEW.description_key); \
             END",
            key = key_of("NEW")
        ),
        format!(
            "CREATE TRIGGER {table}_search_update AFTER UPDATE OF {value}, description_key \
             ON {table} WHEN OLD.{value} IS NOT NEW.{value} \
               OR OLD.description_key IS NOT NEW.description_key BEGIN \
               UPDATE {search} SET value = NEW.{value}, description_key = NEW.description_key \
               WHERE rowid = {key}; \
             END",
            key = key_of("NEW")
        ),
        format!(
            "CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} BEGIN \
               DELETE FROM {search} WHERE rowid = {key}; \
               DELETE FROM {keys} WHERE id = OLD.id; \
             END",
            key = key_of("OLD")
        ),
        // Rows written before the triggers existed.
        format!("INSERT INTO {keys} (id) SELECT id FROM {table}"),
        format!(
            "INSERT INTO {search} (rowid, id, value, description_key) \
             SELECT {keys}.rowid, {table}.id, {value}, description_key \
             FROM {table} JOIN {keys} ON {keys}.id = {table}.id"
        ),
    ]
}
