//! The change log, both ways: numbering and inserting the changes of a
//! write, and every read of them (one change, an allocation's, the changes
//! after a revision for watchers, an identifier's holder at an instant,
//! one item's history in pages).
//!
//! No read holds a transaction between queries: the log only grows above
//! the head, so reading up to a head read first is a consistent view.

use super::bulk;
use super::columns::{change_row, item_rows};
use super::entity::{Field, StoredKind};
use super::pool::Store;
use super::revisions::{self, positions};
use super::taken::taken_or;
use crate::domain::{
    Change, ChangeType, CountryCode, Identifier, Item, ItemId, Page, PageMeta, PageRequest,
    Placement, Revision, Timestamp, UserId,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, Order, Query, SelectStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, FromQueryResult, IdenStatic,
};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

pub type HistoryReceiver<K> = mpsc::Receiver<Result<Page<Change<K>>>>;

/// A change of `item` (as it is now), its revision yet to be taken.
pub(super) fn change<K: StoredKind>(
    item: &Item<K>,
    change_type: ChangeType,
    by: Option<UserId>,
    at: Timestamp,
    before: Option<Placement>,
) -> Change<K> {
    Change {
        revision: Revision::ZERO,
        change_type,
        at,
        by,
        item: item.clone(),
        before,
    }
}

/// Numbers `changes` with a run of revisions taken at once and inserts
/// them in a few statements. Returns the first and last revision.
pub(super) async fn log<K: StoredKind>(
    txn: &DatabaseTransaction,
    changes: &mut [Change<K>],
) -> Result<(Revision, Revision)> {
    let n = i64::try_from(changes.len()).map_err(Error::internal)?;
    let columns: Vec<&str> = change_row(&changes[0])
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let rows = changes
        .iter()
        .map(|change| {
            change_row(change)
                .into_iter()
                .map(|(_, value)| value)
                .collect()
        })
        .collect::<Vec<Vec<_>>>();
    // PostgreSQL numbers them as it inserts them: one round trip.
    let first = match txn.get_database_backend() {
        DbBackend::Postgres => {
            revisions::insert_numbered(txn, K::CHANGES, &columns, rows, None).await?
        }
        _ => {
            let last = revisions::take(txn, u32::try_from(n).map_err(Error::internal)?).await?;
            let first = Revision::from(last.get() - n + 1);
            let column = columns.iter().position(|name| *name == "revision");
            let mut rows = rows;
            for (offset, row) in rows.iter_mut().enumerate() {
                if let Some(column) = column {
                    row[column] = (first.get() + offset as i64).into();
                }
            }
            bulk::insert_rows(txn, K::CHANGES, &columns, rows).await?;
            first
        }
    };
    for (offset, change) in changes.iter_mut().enumerate() {
        change.revision = Revision::from(first.get() + offset as i64);
    }
    Ok((first, Revision::from(first.get() + n - 1)))
}

/// Inserts `item` and logs its creation by `by`: on PostgreSQL in one
/// statement. Returns the change's revision; a unique violation is the
/// item's identifier taken.
pub(super) async fn insert_created<K: StoredKind>(
    txn: &DatabaseTransaction,
    item: &Item<K>,
    by: UserId,
) -> Result<Revision> {
    let (table, columns, rows) = item_rows(std::slice::from_ref(item));
    let created = change(item, ChangeType::Created, Some(by), item.updated_at, None);
    if txn.get_database_backend() != DbBackend::Postgres {
        bulk::insert_rows(txn, &table, &columns, rows)
            .await
            .map_err(|e| taken_or(e, item))?;
        let mut changes = [created];
        return Ok(log(txn, &mut changes).await?.0);
    }
    let logged = change_row(&created);
    let names: Vec<&str> = logged.iter().map(|(name, _)| *name).collect();
    let values = vec![logged.into_iter().map(|(_, value)| value).collect()];
    let written = Some((table.as_str(), columns.as_slice(), rows));
    revisions::insert_numbered(txn, K::CHANGES, &names, values, written)
        .await
        .map_err(|e| taken_or(e, item))
}

/// Logs a change of `item` (as it is now written) with the next revision.
pub(super) async fn record<K: StoredKind>(
    txn: &DatabaseTransaction,
    item: &Item<K>,
    change_type: ChangeType,
    by: Option<UserId>,
    at: Timestamp,
    before: Option<Placement>,
) -> Result<Revision> {
    let mut changes = [change(item, change_type, by, at, before)];
    Ok(log(txn, &mut changes).await?.0)
}

/// The revision of the last change of item `id`.
pub(super) async fn latest_revision<K: StoredKind>(
    txn: &DatabaseTransaction,
    id: ItemId,
) -> Result<Revision, DbErr> {
    let latest = Query::select()
        .expr_as(Expr::cust("MAX(revision)"), Alias::new("revision"))
        .from(Alias::new(K::CHANGES))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = txn.query_one(&latest).await?;
    Ok(row
        .map(|row| row.try_get::<Option<Revision>>("", "revision"))
        .transpose()?
        .flatten()
        .unwrap_or(Revision::ZERO))
}

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

/// The items a remembered write answered with: `count` of them, as its
/// changes from `revision` on left them.
pub(super) async fn answered<K: StoredKind>(
    db: &impl ConnectionTrait,
    revision: Revision,
    count: u32,
) -> Result<Vec<Item<K>>> {
    let changes = match count {
        1 => change_at::<K>(db, revision).await?.into_iter().collect(),
        _ => allocated_from::<K>(db, revision, count).await?,
    };
    if changes.is_empty() {
        return Err(Error::internal(format!(
            "the remembered revision {} is not in the log",
            revision.get()
        )));
    }
    Ok(changes.into_iter().map(|change| change.item).collect())
}

/// Up to `limit` changes after `after`, up to `through`, in order.
pub(super) async fn changes_after<K: StoredKind>(
    store: &Store,
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
    store
        .detached(|store| async move {
            let _reader = store.log_reader().await;
            Ok(load(store.connection()?, &select).await?)
        })
        .await
}

/// The item that held `value` (in `country`, where identifiers are
/// unique per country) at `at`, as it was then: of the items whose last
/// change up to `at` left them live with that identifier, the one
/// changed last.
pub(super) async fn as_of<K: StoredKind>(
    store: &Store,
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
    store
        .detached(|store| async move {
            let found = load::<K>(store.connection()?, &select).await?;
            Ok(found.into_iter().next())
        })
        .await
}

/// The pages of item `id`'s history, oldest first, up to the head read
/// at the start, into the returned channel. The producer waits at most
/// `stall` for the client to take a page, and holds no connection
/// meanwhile.
pub(super) fn history<K: StoredKind>(
    store: &Store,
    id: ItemId,
    paging: PageRequest,
    all_pages: bool,
    stall: Duration,
) -> HistoryReceiver<K> {
    let (sender, receiver) = mpsc::channel(1);
    let store = store.clone();
    let task = async move {
        if let Err(error) = history_pages(&store, id, paging, all_pages, stall, &sender).await {
            let _ = tokio::time::timeout(stall, sender.send(Err(error))).await;
        }
    };
    tokio::spawn(task.in_current_span());
    receiver
}

async fn history_pages<K: StoredKind>(
    store: &Store,
    id: ItemId,
    mut request: PageRequest,
    all_pages: bool,
    stall: Duration,
    sender: &mpsc::Sender<Result<Page<Change<K>>>>,
) -> Result<()> {
    let db = store.connection()?;
    // Per item, revisions follow commit order: the last committed is the end.
    let head = positions(db).await?.latest;
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
