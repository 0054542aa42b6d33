//! Reads of the change log: one item's history, the holder of an identifier
//! at an instant, the changes after a revision (for watchers), and the
//! purge of history older than the retention.
//!
//! None of these holds a transaction between queries: the log only grows
//! above the head, so reading up to a head read first is a consistent view.

use super::Store;
use super::entity::{Field, StoredKind};
use super::repository::Repository;
use super::revisions::{Positions, positions};
use crate::domain::{
    Change, ChangeType, CountryCode, Identifier, ItemId, Page, PageMeta, PageRequest, Revision,
    Timestamp,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, Order, Query, SelectStatement,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, IdenStatic};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

pub type HistoryReceiver<K> = mpsc::Receiver<Result<Page<Change<K>>>>;

fn column(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

fn changes<K: StoredKind>() -> SelectStatement {
    Query::select()
        .column(Asterisk)
        .from(Alias::new(K::CHANGES))
        .to_owned()
}

async fn load<K: StoredKind>(
    db: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<Change<K>>, DbErr> {
    db.query_all(select)
        .await?
        .iter()
        .map(|row| Change::<K>::from_query_result(row, ""))
        .collect()
}

/// The change with this revision, if it is one of this kind's.
pub(super) async fn change_at<K: StoredKind>(
    db: &impl ConnectionTrait,
    revision: Revision,
) -> Result<Option<Change<K>>, DbErr> {
    let select = changes::<K>()
        .and_where(column("revision").eq(revision))
        .to_owned();
    Ok(load(db, &select).await?.pop())
}

/// The first `count` assignments and holds from revision `first` on: the
/// changes of one allocation, which took its revisions in one run.
pub(super) async fn allocated_from<K: StoredKind>(
    db: &impl ConnectionTrait,
    first: Revision,
    count: u32,
) -> Result<Vec<Change<K>>, DbErr> {
    let select = changes::<K>()
        .and_where(column("revision").gte(first))
        .and_where(
            column("change_type").is_in([ChangeType::Assigned.as_str(), ChangeType::Held.as_str()]),
        )
        .order_by(Alias::new("revision"), Order::Asc)
        .limit(u64::from(count))
        .to_owned();
    load(db, &select).await
}

impl<K: StoredKind> Repository<K> {
    /// The head and the purge horizon.
    pub async fn positions(&self) -> Result<Positions> {
        self.detached(|repository| async move {
            let _reader = repository.store().log_reader().await;
            Ok(positions(repository.store().connection()?).await?)
        })
        .await
    }

    /// Up to `limit` changes after `after`, up to `through`, in order.
    pub async fn changes_after(
        &self,
        after: Revision,
        through: Revision,
        limit: u64,
    ) -> Result<Vec<Change<K>>> {
        let select = changes::<K>()
            .and_where(column("revision").gt(after))
            .and_where(column("revision").lte(through))
            .order_by(Alias::new("revision"), Order::Asc)
            .limit(limit)
            .to_owned();
        self.detached(|repository| async move {
            let _reader = repository.store().log_reader().await;
            Ok(load(repository.store().connection()?, &select).await?)
        })
        .await
    }

    /// The item that held `value` (in `country`, where identifiers are
    /// unique per country) at `at`, as it was then: of the items whose last
    /// change up to `at` left them live with that identifier, the one
    /// changed last.
    pub async fn as_of(
        &self,
        value: &K::Value,
        country: Option<CountryCode>,
        at: Timestamp,
    ) -> Result<Option<Change<K>>> {
        let key = K::column(Field::ValueKey).as_str();
        let holds = |select: &mut SelectStatement| {
            select.and_where(column(key).eq(value.key()));
            if let Some(country) = country {
                select.and_where(column("country").eq(country));
            }
        };
        let mut candidates = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(K::CHANGES))
            .and_where(column("changed_at").lte(at))
            .to_owned();
        holds(&mut candidates);
        let latest = Query::select()
            .expr(Func::max(column("revision")))
            .from(Alias::new(K::CHANGES))
            .and_where(column("changed_at").lte(at))
            .and_where(column("id").in_subquery(candidates))
            .group_by_col(Alias::new("id"))
            .to_owned();
        let mut select = changes::<K>()
            .and_where(column("revision").in_subquery(latest))
            .and_where(column("deleted_at").is_null())
            .order_by(Alias::new("revision"), Order::Desc)
            .to_owned();
        holds(&mut select);
        self.detached(|repository| async move {
            let found = load::<K>(repository.store().connection()?, &select).await?;
            Ok(found.into_iter().next())
        })
        .await
    }

    /// The pages of item `id`'s history, oldest first, up to the head read
    /// at the start, into the returned channel. The producer waits at most
    /// `stall` for the client to take a page, and holds no connection
    /// meanwhile.
    pub fn history(
        &self,
        id: ItemId,
        paging: PageRequest,
        all_pages: bool,
        stall: Duration,
    ) -> HistoryReceiver<K> {
        let (sender, receiver) = mpsc::channel(1);
        let repository = self.clone();
        let task = async move {
            if let Err(error) = repository
                .history_pages(id, paging, all_pages, stall, &sender)
                .await
            {
                let _ = tokio::time::timeout(stall, sender.send(Err(error))).await;
            }
        };
        tokio::spawn(task.in_current_span());
        receiver
    }

    async fn history_pages(
        &self,
        id: ItemId,
        mut request: PageRequest,
        all_pages: bool,
        stall: Duration,
        sender: &mpsc::Sender<Result<Page<Change<K>>>>,
    ) -> Result<()> {
        let db = self.store().connection()?;
        let head = positions(db).await?.head;
        let of_item = Condition::all()
            .add(column("id").eq(id))
            .add(column("revision").lte(head));
        let count = Query::select()
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("total"))
            .from(Alias::new(K::CHANGES))
            .cond_where(of_item.clone())
            .to_owned();
        let total: i64 = match db.query_one(&count).await? {
            Some(row) => row.try_get("", "total")?,
            None => 0,
        };
        if total == 0 {
            return Err(Error::NotFound(K::RESOURCE));
        }
        let mut after: Option<Revision> = None;
        loop {
            let mut select = changes::<K>()
                .cond_where(of_item.clone())
                .order_by(Alias::new("revision"), Order::Asc)
                .limit(u64::from(request.limit()))
                .to_owned();
            match after {
                Some(last) => select.and_where(column("revision").gt(last)),
                None => select.offset(request.offset()),
            };
            let items = load::<K>(db, &select).await?;
            let meta = PageMeta::new(request, total.unsigned_abs(), head);
            after = items.last().map(|change| change.revision);
            let page = Page {
                items,
                meta,
                next: None,
            };
            match tokio::time::timeout(stall, sender.send(Ok(page))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Ok(()), // the client went away
                Err(_) => return Err(Error::StreamStalled { after: stall }),
            }
            if !all_pages || !meta.has_next_page {
                return Ok(());
            }
            request = request.next();
        }
    }
}

impl Store {
    /// Purges history from before `before`, but for each item's last change
    /// before it (its state at that instant), and the remembered answers of
    /// writes from before `answers_before`. The horizon moves first, so that
    /// a watcher reading across the purge finds out.
    pub async fn purge(&self, before: Timestamp, answers_before: Timestamp) -> Result<u64> {
        let db = self.connection()?;
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
            return Ok(super::idempotency::forget_before(db, answers_before).await?);
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
            let statement = sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [before.into(), before.into()],
            );
            purged += db.execute_raw(statement).await?.rows_affected();
        }
        purged += super::idempotency::forget_before(db, answers_before).await?;
        Ok(purged)
    }
}
