//! Counts of items per cell (status, country, holder, deleted), kept by the
//! database in the transaction of every write, so that a list's exact
//! `total` is a sum over a few hundred cells instead of a count of a million
//! rows.
//!
//! Triggers keep them, so no writer can forget them: the service, a bulk
//! load, or an operator's SQL. The shared pool's holder is the nil UUID (an
//! organization id is never nil), as a key column cannot be NULL.
//!
//! Concurrent writers to one hot cell would queue on its row until each
//! commits, so on PostgreSQL and MariaDB a cell is split over 16 slots and
//! each write picks one at random; a list sums the slots. A write that moves
//! an item between cells updates both in one fixed order (the cell key, at
//! one slot), so two writers never wait for each other in a cycle. SQLite
//! has one writer at a time and uses one slot.
//!
//! PostgreSQL counts once per statement (a transition table, so a bulk
//! insert costs one upsert per cell); MariaDB and SQLite per row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_kept_counts"
    }
}

/// The items' table and the table of its counts.
const TABLES: [(&str, &str); 2] = [("dids", "did_counts"), ("sender_ids", "sender_id_counts")];

/// Slots per cell on engines with concurrent writers.
const SLOTS: u32 = 16;

const COLUMNS: &str = "status, country, holder, deleted, slot, items";
const KEY: &str = "status, country, holder, deleted, slot";

fn nil(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
        _ => "X'00000000000000000000000000000000'",
    }
}

/// The cell of a row (`NEW`, `OLD`, or a bare column name with `""`).
fn cell(backend: DbBackend, row: &str) -> String {
    format!(
        "{row}status, {row}country, COALESCE({row}organization_id, {nil}), \
         {row}deleted_at IS NOT NULL",
        nil = nil(backend)
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for (table, counts) in TABLES {
            manager
                .create_table(
                    Table::create()
                        .table(counts)
                        .col(ColumnDef::new("status").string_len(16).not_null())
                        .col(ColumnDef::new("country").char_len(2).not_null())
                        .col(ColumnDef::new("holder").uuid().not_null())
                        .col(ColumnDef::new("deleted").boolean().not_null())
                        .col(ColumnDef::new("slot").small_integer().not_null())
                        .col(ColumnDef::new("items").big_integer().not_null())
                        .primary_key(
                            Index::create()
                                .col("status")
                                .col("country")
                                .col("holder")
                                .col("deleted")
                                .col("slot"),
                        )
                        .to_owned(),
                )
                .await?;
            for statement in triggers(backend, table, counts) {
                db.execute_unprepared(&statement).await?;
            }
            // Rows written before the triggers existed.
            db.execute_unprepared(&format!(
                "INSERT INTO {counts} ({COLUMNS}) SELECT {cell}, 0, COUNT(*) FROM {table} \
                 GROUP BY 1, 2, 3, 4",
                cell = cell(backend, "")
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for (table, counts) in TABLES {
            match backend {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "DROP FUNCTION IF EXISTS {counts}_keep() CASCADE"
                    ))
                    .await?;
                }
                _ => {
                    for event in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS {table}_count_{event}"
                        ))
                        .await?;
                    }
                }
            }
            manager
                .drop_table(Table::drop().table(counts).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

fn triggers(backend: DbBackend, table: &str, counts: &str) -> Vec<String> {
    match backend {
        DbBackend::Postgres => postgres_triggers(table, counts),
        DbBackend::MySql => row_triggers(backend, table, counts, "FLOOR(RAND() * 16)"),
        _ => row_triggers(backend, table, counts, "0"),
    }
}

/// One function per table, run once per statement over its transition
/// tables: the changed rows' cells, summed, in key order.
fn postgres_triggers(table: &str, counts: &str) -> Vec<String> {
    let cell = cell(DbBackend::Postgres, "");
    let upsert = |changed: &str| {
        format!(
            "INSERT INTO {counts} AS kept ({COLUMNS}) \
             SELECT status, country, holder, deleted, chosen_slot, SUM(delta) \
             FROM ({changed}) AS changed (status, country, holder, deleted, delta) \
             GROUP BY status, country, holder, deleted HAVING SUM(delta) <> 0 \
             ORDER BY status, country, holder, deleted \
             ON CONFLICT ({KEY}) DO UPDATE SET items = kept.items + EXCLUDED.items;"
        )
    };
    let added = format!("SELECT {cell}, 1 FROM new_rows");
    let removed = format!("SELECT {cell}, -1 FROM old_rows");
    let function = format!(
        "CREATE FUNCTION {counts}_keep() RETURNS trigger LANGUAGE plpgsql AS $keep$ \
         DECLARE chosen_slot smallint := floor(random() * {SLOTS}); \
         BEGIN \
           IF TG_OP = 'INSERT' THEN {insert} \
           ELSIF TG_OP = 'UPDATE' THEN {update} \
           ELSE {delete} \
           END IF; \
           RETURN NULL; \
         END $keep$",
        insert = upsert(&added),
        update = upsert(&format!("{added} UNION ALL {removed}")),
        delete = upsert(&removed),
    );
    let mut statements = vec![function];
    for (event, tables) in [
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ] {
        statements.push(format!(
            "CREATE TRIGGER {table}_count_{name} AFTER {event} ON {table} \
             REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {counts}_keep()",
            name = event.to_lowercase()
        ));
    }
    statements
}

/// Triggers per row (MariaDB, SQLite): one upsert per changed cell.
fn row_triggers(backend: DbBackend, table: &str, counts: &str, slot: &str) -> Vec<String> {
    let upsert = |row: &str, delta: i8| {
        let on_conflict = match backend {
            DbBackend::MySql => "ON DUPLICATE KEY UPDATE items = items + VALUES(items)".to_owned(),
            _ => format!("ON CONFLICT ({KEY}) DO UPDATE SET items = items + excluded.items"),
        };
        format!(
            "INSERT INTO {counts} ({COLUMNS}) VALUES ({cell}, chosen_slot, {delta}) {on_conflict};",
            cell = cell(backend, row)
        )
    };
    let (old, new) = (cell(backend, "OLD."), cell(backend, "NEW."));
    let (added, removed) = (upsert("NEW.", 1), upsert("OLD.", -1));
    let moved = format!("({old}) <> ({new})");
    let statements = match backend {
        DbBackend::MySql => [
            ("INSERT", added.clone()),
            (
                "UPDATE",
                format!(
                    "IF {moved} THEN \
                       IF ({old}) < ({new}) THEN {removed} {added} \
                       ELSE {added} {removed} END IF; \
                     END IF;"
                ),
            ),
            ("DELETE", removed.clone()),
        ]
        .map(|(event, body)| {
            format!(
                "CREATE TRIGGER {table}_count_{name} AFTER {event} ON {table} FOR EACH ROW \
                 BEGIN DECLARE chosen_slot SMALLINT DEFAULT {slot}; {body} END",
                name = event.to_lowercase()
            )
        }),
        _ => [
            ("INSERT", String::new(), added.clone()),
            (
                "UPDATE",
                format!("WHEN {moved}"),
                format!("{removed} {added}"),
            ),
            ("DELETE", String::new(), removed.clone()),
        ]
        .map(|(event, when, body)| {
            format!(
                "CREATE TRIGGER {table}_count_{name} AFTER {event} ON {table} FOR EACH ROW {when} \
                 BEGIN {body} END",
                name = event.to_lowercase(),
                body = body.replace("chosen_slot", slot)
            )
        }),
    };
    statements.to_vec()
}
