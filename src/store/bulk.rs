//! Multi-row inserts. Binding thousands of parameters costs PostgreSQL more
//! than the insert itself (a 500-row VALUES list of the items' 17 columns
//! took three times as long as inserting the same rows from a SELECT), so
//! there the rows go as one JSON parameter that `json_populate_recordset`
//! expands into the table's own row type. Elsewhere they go as VALUES
//! lists, a few hundred rows per statement.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, Value};

/// Rows per VALUES statement: well under every engine's limit of bound
/// parameters (SQLite's 32,766) at the change log's 28 columns.
const ROWS_PER_INSERT: usize = 500;

/// Inserts `rows`, each the values of `columns` in order, into `table`.
pub(super) async fn insert_rows(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        let list = columns.join(", ");
        let sql = format!(
            "INSERT INTO {table} ({list}) SELECT {list} \
             FROM json_populate_recordset(NULL::{table}, $1::json)"
        );
        let document = json_rows(columns, rows)?;
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [document.into()]);
        return txn.execute_raw(statement).await.map(drop);
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|column| Alias::new(*column)));
        for row in chunk {
            insert.values_panic(row.iter().cloned().map(Expr::value));
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// Rows as one JSON array of objects, for `json_populate_recordset`.
pub(super) fn json_rows(columns: &[&str], rows: Vec<Vec<Value>>) -> Result<String, DbErr> {
    let objects = rows
        .into_iter()
        .map(|row| {
            let fields = columns
                .iter()
                .zip(row)
                .map(|(column, value)| json(value).map(|value| ((*column).to_owned(), value)));
            fields.collect::<Result<serde_json::Map<_, _>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::Value::from(objects).to_string())
}

/// A bound value as JSON that PostgreSQL's input functions read back as
/// the column's type (uuid, text, timestamptz, bigint, boolean).
fn json(value: Value) -> Result<serde_json::Value, DbErr> {
    use serde_json::Value as Json;
    Ok(match value {
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::SmallInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::Char(v) => v.map_or(Json::Null, |c| Json::from(c.to_string())),
        Value::Uuid(v) => v.map_or(Json::Null, |id| Json::from(id.to_string())),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |at| {
            Json::from(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        }),
        other => {
            return Err(DbErr::Custom(format!(
                "no JSON form for a bulk insert of {other:?}"
            )));
        }
    })
}
