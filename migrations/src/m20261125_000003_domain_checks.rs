//! CHECK constraints that hold each column to what its domain type promises,
//! so that the service loads rows into those types without parsing them
//! again: a value written behind the service's back is refused by the
//! database instead of surfacing later as a corrupt item.
//!
//! PostgreSQL and MariaDB take `ALTER TABLE … ADD CONSTRAINT … CHECK`.
//! SQLite cannot add a constraint to a table, so there triggers refuse the
//! same rows on insert and update (with GLOB, as SQLite has no REGEXP).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_domain_checks"
    }
}

/// One rule: a name, and the condition a row must meet on each engine.
struct Rule {
    table: &'static str,
    name: &'static str,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
}

const RULES: [Rule; 5] = [
    Rule {
        table: "dids",
        name: "dids_number_check",
        postgres: r"number ~ '^\+?[0-9]+$' AND length(number) BETWEEN 3 AND 20",
        mysql: "number REGEXP '^[+]?[0-9]+$' AND CHAR_LENGTH(number) BETWEEN 3 AND 20",
        sqlite: "length(NEW.number) BETWEEN 3 AND 20 \
                 AND (NEW.number GLOB '+[0-9]*' OR NEW.number GLOB '[0-9]*') \
                 AND substr(NEW.number, 2) NOT GLOB '*[^0-9]*'",
    },
    Rule {
        table: "sender_ids",
        name: "sender_ids_sender_id_check",
        postgres: "sender_id ~ '^[A-Za-z0-9]{1,11}$'",
        mysql: "sender_id REGEXP '^[A-Za-z0-9]{1,11}$'",
        sqlite: "length(NEW.sender_id) BETWEEN 1 AND 11 \
                 AND NEW.sender_id NOT GLOB '*[^A-Za-z0-9]*'",
    },
    Rule {
        table: "dids",
        name: "dids_country_check",
        postgres: "country ~ '^[A-Z]{2}$'",
        mysql: "country REGEXP '^[A-Z]{2}$'",
        sqlite: "NEW.country GLOB '[A-Z][A-Z]'",
    },
    Rule {
        table: "sender_ids",
        name: "sender_ids_country_check",
        postgres: "country ~ '^[A-Z]{2}$'",
        mysql: "country REGEXP '^[A-Z]{2}$'",
        sqlite: "NEW.country GLOB '[A-Z][A-Z]'",
    },
    // "No description" is NULL, never an empty string; at most 500
    // characters (the other engines' VARCHAR(500) holds that already).
    Rule {
        table: "*",
        name: "description_check",
        postgres: "description <> ''",
        mysql: "description <> ''",
        sqlite: "NEW.description IS NULL OR length(NEW.description) BETWEEN 1 AND 500",
    },
];

const TABLES: [&str; 2] = ["dids", "sender_ids"];

impl Rule {
    fn tables(&self) -> Vec<&'static str> {
        if self.table == "*" {
            TABLES.to_vec()
        } else {
            vec![self.table]
        }
    }

    fn name_on(&self, table: &str) -> String {
        if self.table == "*" {
            format!("{table}_{}", self.name)
        } else {
            self.name.to_owned()
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for rule in &RULES {
            for table in rule.tables() {
                let name = rule.name_on(table);
                match manager.get_database_backend() {
                    DbBackend::Sqlite => {
                        for event in ["INSERT", "UPDATE"] {
                            db.execute_unprepared(&format!(
                                "CREATE TRIGGER {name}_{event} BEFORE {event} ON {table} \
                                 WHEN NOT ({condition}) BEGIN \
                                 SELECT RAISE(ABORT, '{name}: the row breaks its rule'); END",
                                event = event.to_lowercase(),
                                condition = rule.sqlite,
                            ))
                            .await?;
                        }
                    }
                    backend => {
                        let condition = match backend {
                            DbBackend::Postgres => rule.postgres,
                            _ => rule.mysql,
                        };
                        db.execute_unprepared(&format!(
                            "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for rule in &RULES {
            for table in rule.tables() {
                let name = rule.name_on(table);
                let statements = match manager.get_database_backend() {
                    DbBackend::Sqlite => vec![
                        format!("DROP TRIGGER IF EXISTS {name}_insert"),
                        format!("DROP TRIGGER IF EXISTS {name}_update"),
                    ],
                    _ => vec![format!("ALTER TABLE {table} DROP CONSTRAINT {name}")],
                };
                for statement in statements {
                    db.execute_unprepared(&statement).await?;
                }
            }
        }
        Ok(())
    }
}
