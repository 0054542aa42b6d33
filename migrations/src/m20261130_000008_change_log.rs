//! The change log: a revision counter, the history of every item, and the
//! remembered answers of retried writes.
//!
//! - `revision_head` holds one row, the last revision handed out. A writer
//!   takes the next one by updating that row in its own transaction, so it
//!   holds the row until it commits: revisions are handed out, and become
//!   visible, in commit order (a sequence hands them out at insert time, so
//!   a reader could see 12 before 11 commits and skip 11). On PostgreSQL a
//!   trigger on that row sends `NOTIFY numbering_changes`, delivered at
//!   commit, to wake the watchers of every server process.
//! - `history_horizon` holds one row: the highest revision purged (a watch
//!   from below it is refused) and the time before which history is gone.
//! - `did_changes` / `sender_id_changes`: one row per change, the item's
//!   columns as they were right after it, with the change's revision, type,
//!   time and user, and where the item stood before (live or not, holder,
//!   country), which tells each watcher whether it entered or left its view.
//! - `idempotency_keys`: a write's `request_id` per user, with a hash of the
//!   request and the revision that answers it.
//!
//! Items that exist already get one change each, in `updated_at` order: a
//! creation for a live item, a deletion for a deleted one, as they are now.

use super::m20261123_000001_create_inventory::timestamp;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000008_change_log"
    }
}

/// The items' table, its changes, its identifier column and key, its
/// length, and the columns that find an identifier's holder at an instant.
struct Logged {
    table: &'static str,
    changes: &'static str,
    value: &'static str,
    key: &'static str,
    max_len: u32,
    lookup: &'static [&'static str],
}

const LOGGED: [Logged; 2] = [
    Logged {
        table: "dids",
        changes: "did_changes",
        value: "number",
        key: "number_key",
        max_len: 20,
        lookup: &["number_key", "changed_at"],
    },
    Logged {
        table: "sender_ids",
        changes: "sender_id_changes",
        value: "sender_id",
        key: "sender_id_key",
        max_len: 11,
        lookup: &["sender_id_key", "country", "changed_at"],
    },
];

/// The item columns a change keeps (all but the search key).
fn item_columns(logged: &Logged) -> String {
    format!(
        "id, {value}, {key}, country, description, organization_id, status, created_at, \
         updated_at, deleted_at, created_by, updated_by, deleted_by",
        value = logged.value,
        key = logged.key
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        manager
            .create_table(
                Table::create()
                    .table("revision_head")
                    .col(
                        ColumnDef::new("id")
                            .small_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("revision").big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("history_horizon")
                    .col(
                        ColumnDef::new("id")
                            .small_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("revision").big_integer().not_null())
                    .col(timestamp(backend, "purged_before").null())
                    .to_owned(),
            )
            .await?;
        for logged in &LOGGED {
            let mut table = Table::create();
            table
                .table(logged.changes)
                .col(
                    ColumnDef::new("revision")
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("change_type").string_len(16).not_null())
                .col(timestamp(backend, "changed_at").not_null())
                .col(ColumnDef::new("changed_by").uuid().null())
                .col(ColumnDef::new("before_live").boolean().not_null())
                .col(ColumnDef::new("before_organization_id").uuid().null())
                .col(ColumnDef::new("before_country").char_len(2).null())
                .col(ColumnDef::new("id").uuid().not_null())
                .col(
                    ColumnDef::new(logged.value)
                        .string_len(logged.max_len)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(logged.key)
                        .string_len(logged.max_len)
                        .not_null(),
                )
                .col(ColumnDef::new("country").char_len(2).not_null())
                .col(ColumnDef::new("description").string_len(500).null())
                .col(ColumnDef::new("organization_id").uuid().null())
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(timestamp(backend, "created_at").not_null())
                .col(timestamp(backend, "updated_at").not_null())
                .col(timestamp(backend, "deleted_at").null())
                .col(ColumnDef::new("created_by").uuid().null())
                .col(ColumnDef::new("updated_by").uuid().null())
                .col(ColumnDef::new("deleted_by").uuid().null());
            if backend == DbBackend::MySql {
                table.character_set("utf8mb4").collate("utf8mb4_bin");
            }
            manager.create_table(table.to_owned()).await?;
            for columns in [&["id", "revision"][..], logged.lookup] {
                let mut index = Index::create();
                index
                    .name(format!("{}_{}_idx", logged.changes, columns.join("_")))
                    .table(logged.changes);
                for column in columns {
                    index.col(*column);
                }
                manager.create_index(index.to_owned()).await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(ColumnDef::new("user_id").uuid().not_null())
                    .col(ColumnDef::new("request_id").uuid().not_null())
                    .col(ColumnDef::new("fingerprint").string_len(64).not_null())
                    .col(ColumnDef::new("revision").big_integer().not_null())
                    .col(timestamp(backend, "created_at").not_null())
                    .primary_key(Index::create().col("user_id").col("request_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idempotency_keys_created_at_idx")
                    .table("idempotency_keys")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        // Items written before the log existed: one change each, numbered
        // after those of the table before.
        let mut offset = String::from("0");
        for logged in &LOGGED {
            let columns = item_columns(logged);
            db.execute_unprepared(&format!(
                "INSERT INTO {changes} (revision, change_type, changed_at, changed_by, \
                 before_live, {columns}) \
                 SELECT {offset} + ROW_NUMBER() OVER (ORDER BY updated_at, id), \
                 CASE WHEN deleted_at IS NULL THEN 'created' ELSE 'deleted' END, \
                 COALESCE(deleted_at, updated_at), COALESCE(deleted_by, updated_by), \
                 {no}, {columns} FROM {table}",
                changes = logged.changes,
                table = logged.table,
                no = if backend == DbBackend::Postgres {
                    "false"
                } else {
                    "0"
                },
            ))
            .await?;
            offset = format!("{offset} + (SELECT COUNT(*) FROM {})", logged.table);
        }
        db.execute_unprepared(&format!(
            "INSERT INTO revision_head (id, revision) VALUES (1, {offset})"
        ))
        .await?;
        db.execute_unprepared("INSERT INTO history_horizon (id, revision) VALUES (1, 0)")
            .await?;

        if backend == DbBackend::Postgres {
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
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS revision_head_notify() CASCADE")
                .await?;
        }
        let tables = ["idempotency_keys", "did_changes", "sender_id_changes"];
        for table in tables
            .into_iter()
            .chain(["history_horizon", "revision_head"])
        {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
