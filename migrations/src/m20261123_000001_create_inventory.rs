//! The `dids` and `sender_ids` tables.
//!
//! Both tables share one shape and differ in their identifier column and in
//! what makes it unique, so one description ([`Inventory`]) builds both.
//!
//! Uniqueness among live (not deleted) rows is the database's job, so that
//! concurrent writers cannot break it. PostgreSQL and SQLite have partial
//! unique indexes. MariaDB has none: there a stored generated column holds the
//! key while the row is live and NULL once it is deleted, and a plain unique
//! index over it ignores the NULLs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_inventory"
    }
}

/// What differs between the two inventory tables.
struct Inventory {
    table: &'static str,
    /// The identifier as given (`number`, `sender_id`).
    value: &'static str,
    /// The identifier as compared (without `+`, or lower case).
    key: &'static str,
    max_len: u32,
    /// Columns that scope the uniqueness of `key` (Sender IDs: per country).
    unique_within: &'static [&'static str],
}

const INVENTORIES: [Inventory; 2] = [
    Inventory {
        table: "dids",
        value: "number",
        key: "number_key",
        max_len: 20,
        unique_within: &[],
    },
    Inventory {
        table: "sender_ids",
        value: "sender_id",
        key: "sender_id_key",
        max_len: 11,
        unique_within: &["country"],
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for inventory in &INVENTORIES {
            inventory.create(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for inventory in &INVENTORIES {
            manager
                .drop_table(Table::drop().table(inventory.table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

impl Inventory {
    async fn create(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut table = Table::create();
        table
            .table(self.table)
            .col(ColumnDef::new("id").uuid().not_null().primary_key())
            .col(
                ColumnDef::new(self.value)
                    .string_len(self.max_len)
                    .not_null(),
            )
            .col(ColumnDef::new(self.key).string_len(self.max_len).not_null())
            .col(ColumnDef::new("country").char_len(2).not_null())
            .col(ColumnDef::new("description").string_len(500).null())
            .col(ColumnDef::new("organization_id").uuid().null())
            .col(ColumnDef::new("status").string_len(16).not_null())
            .col(timestamp(backend, "created_at").not_null())
            .col(timestamp(backend, "updated_at").not_null())
            .col(timestamp(backend, "deleted_at").null())
            .col(ColumnDef::new("created_by").uuid().null())
            .col(ColumnDef::new("updated_by").uuid().null())
            .col(ColumnDef::new("deleted_by").uuid().null())
            .check(Check::named(
                format!("{}_status_check", self.table),
                Expr::cust("status IN ('active', 'inactive', 'reserved')"),
            ));
        if backend == DbBackend::MySql {
            // Binary collation: the same comparisons and ordering as the
            // other engines, and a charset that holds any description.
            table.character_set("utf8mb4").collate("utf8mb4_bin");
        }
        manager.create_table(table.to_owned()).await?;
        self.create_live_key_index(manager).await?;

        // Each sort key with the id: keyset pages resume with a range scan.
        for columns in [
            &["created_at", "id"][..],
            &[self.value, "id"],
            &["country", "id"],
            &["status", "id"],
            &["organization_id"],
        ] {
            let mut index = Index::create();
            index
                .name(format!("{}_{}_idx", self.table, columns.join("_")))
                .table(self.table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn create_live_key_index(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let index = format!("{}_{}_live_uniq", self.table, self.key);
        let scope: String = self
            .unique_within
            .iter()
            .map(|column| format!("{column}, "))
            .collect();
        let sql = match manager.get_database_backend() {
            DbBackend::MySql => {
                let live = format!("live_{}", self.key);
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD COLUMN {live} VARCHAR({len}) \
                     GENERATED ALWAYS AS (IF(deleted_at IS NULL, {key}, NULL)) STORED",
                    table = self.table,
                    key = self.key,
                    len = self.max_len,
                ))
                .await?;
                format!(
                    "CREATE UNIQUE INDEX {index} ON {} ({scope}{live})",
                    self.table
                )
            }
            _ => format!(
                "CREATE UNIQUE INDEX {index} ON {} ({scope}{}) WHERE deleted_at IS NULL",
                self.table, self.key
            ),
        };
        db.execute_unprepared(&sql).await?;
        Ok(())
    }
}

/// A timestamp column that keeps microseconds on every engine (MariaDB's
/// plain `DATETIME` keeps whole seconds, and its `TIMESTAMP` ends in 2038).
pub(crate) fn timestamp(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom("DATETIME(6)"),
        _ => column.timestamp_with_time_zone(),
    };
    column
}
