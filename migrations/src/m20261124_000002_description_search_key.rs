//! `description_key`: each description in the form search compares, so that
//! search folds case and accents alike on every engine (SQLite's LOWER and
//! LIKE fold ASCII only).
//!
//! The service writes the key with every description; this migration fills
//! it for the rows already there. Its fold is a copy of the service's as it
//! was when this migration was written: a migration must not change meaning
//! when the service's code does later.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_description_search_key"
    }
}

const TABLES: [&str; 2] = ["dids", "sender_ids"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new("description_key").text().null())
                        .to_owned(),
                )
                .await?;
            backfill(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column("description_key")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Fills the key of every row that has a description, one row at a time
/// (the tables are small when this migration runs; later ones are not).
async fn backfill(manager: &SchemaManager<'_>, table: &'static str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns(["id", "description"])
        .from(table)
        .and_where(Expr::col("description").is_not_null())
        .to_owned();
    for row in db.query_all(&select).await? {
        let id: sea_orm::prelude::Uuid = row.try_get("", "id")?;
        let description: String = row.try_get("", "description")?;
        let update = Query::update()
            .table(table)
            .value("description_key", fold(&description))
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}

fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
