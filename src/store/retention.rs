//! Retention: the purge of history older than the retention, and of the
//! remembered answers of writes older than the idempotency window.

use super::entity::StoredKind;
use super::idempotency;
use super::pool::Store;
use crate::domain::{Revision, Timestamp};
use crate::error::Result;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};

fn column(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

/// Purges history from before `before`, but for each item's last change
/// before it (its state at that instant), and the remembered answers of
/// writes from before `answers_before`. The horizon moves first, so that
/// a watcher reading across the purge finds out.
pub async fn purge(store: &Store, before: Timestamp, answers_before: Timestamp) -> Result<u64> {
    let db = store.connection()?;
    let mut horizon = Revision::ZERO;
    for changes in [
        <crate::domain::Did as StoredKind>::CHANGES,
        <crate::domain::SenderId as StoredKind>::CHANGES,
    ] {
        let oldest = Query::select()
            .expr_as(Func::max(column("revision")), Alias::new("revision"))
            .from(Alias::new(changes))
            .and_where(column("changed_at").lt(before))
            .to_owned();
        if let Some(row) = db.query_one(&oldest).await?
            && let Some(revision) = row.try_get::<Option<Revision>>("", "revision")?
        {
            horizon = Ord::max(horizon, revision);
        }
    }
    if horizon == Revision::ZERO {
        return Ok(idempotency::forget_before(db, answers_before).await?);
    }
    let advance = Query::update()
        .table(Alias::new("history_horizon"))
        .value(Alias::new("revision"), horizon)
        .value(Alias::new("purged_before"), before)
        .and_where(column("id").eq(1))
        .and_where(column("revision").lte(horizon))
        .to_owned();
    db.execute(&advance).await?;
    let mut purged = 0;
    for changes in [
        <crate::domain::Did as StoredKind>::CHANGES,
        <crate::domain::SenderId as StoredKind>::CHANGES,
    ] {
        // MariaDB refuses a subquery on the table a DELETE deletes from
        // unless it is materialized: hence the derived table.
        let backend = db.get_database_backend();
        let (first, second) = match backend {
            sea_orm::DbBackend::Postgres => ("$1", "$2"),
            _ => ("?", "?"),
        };
        let sql = format!(
            "DELETE FROM {changes} WHERE changed_at < {first} AND revision NOT IN \
                 (SELECT kept FROM (SELECT MAX(revision) AS kept FROM {changes} \
                  WHERE changed_at < {second} GROUP BY id) AS last_before)"
        );
        let statement =
            sea_orm::Statement::from_sql_and_values(backend, sql, [before.into(), before.into()]);
        purged += db.execute_raw(statement).await?.rows_affected();
    }
    purged += idempotency::forget_before(db, answers_before).await?;
    Ok(purged)
}
