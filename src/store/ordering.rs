//! The order of a list, and how it is counted: the total from the kept
//! counts (or the rows), the sort columns and their indexes, the cursor of
//! a page and the keyset condition of the next, and the walk of an offset.

use super::entity::{Field, StoredKind};
use super::selection::{counted, counted_but_unavailable, selection};
use crate::domain::{
    Cursor, Identifier, Item, ItemId, ListQuery, SortField, SortKey, SortOrder, Visibility,
};
use crate::error::{Error, Result};
use sea_orm::sea_query::extension::mysql::{IndexHintScope, MySqlSelectStatementExt};
use sea_orm::sea_query::{Alias, Condition, Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};

/// The exact number of rows `query` selects: a sum over the counts the
/// database keeps when they can answer it, else a count of the rows.
pub(super) async fn total<K: StoredKind>(
    txn: &impl ConnectionTrait,
    backend: DbBackend,
    visibility: Visibility,
    query: &ListQuery<K>,
) -> Result<u64> {
    let Some(condition) = counted::<K>(visibility, &query.filter) else {
        return Ok(select::<K>(backend, visibility, query)
            .into_model::<Item<K>>()
            .count(txn)
            .await?);
    };
    // SUM of a BIGINT is a decimal on PostgreSQL and MariaDB.
    let sum = match backend {
        DbBackend::Postgres => "CAST(COALESCE(SUM(items), 0) AS BIGINT)",
        DbBackend::MySql => "CAST(COALESCE(SUM(items), 0) AS SIGNED)",
        _ => "COALESCE(SUM(items), 0)",
    };
    let statement = Query::select()
        .expr_as(Expr::cust(sum), Alias::new("total"))
        .from(Alias::new(K::COUNTS))
        .cond_where(condition)
        .to_owned();
    let total: i64 = txn
        .query_one(&statement)
        .await?
        .map(|row| row.try_get("", "total"))
        .transpose()?
        .unwrap_or_default();
    let total = u64::try_from(total)
        .map_err(|_| Error::internal(format!("a kept count is negative: {total}")))?;
    // Holds and rests end by the clock, which no kept count can follow:
    // the few rows they take out are counted and taken away.
    let unavailable = match counted_but_unavailable::<K>(visibility, &query.filter) {
        Some(condition) => {
            K::Entity::find()
                .filter(condition)
                .into_model::<Item<K>>()
                .count(txn)
                .await?
        }
        None => 0,
    };
    Ok(total.saturating_sub(unavailable))
}

/// The rows of `query` that `visibility` shows, unordered (for counting).
fn select<K: StoredKind>(
    backend: DbBackend,
    visibility: Visibility,
    query: &ListQuery<K>,
) -> Select<K::Entity> {
    K::Entity::find().filter(selection(backend, visibility, &query.filter))
}

pub(super) fn ordered<K: StoredKind>(
    backend: DbBackend,
    visibility: Visibility,
    query: &ListQuery<K>,
) -> Select<K::Entity> {
    in_order(select::<K>(backend, visibility, query), query)
}

fn in_order<K: StoredKind>(select: Select<K::Entity>, query: &ListQuery<K>) -> Select<K::Entity> {
    let order = match query.sort.order {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    select
        .order_by(sort_column::<K>(query.sort.field), order.clone())
        .order_by(K::column(Field::Id), order)
}

/// The ids of the list from its `offset`th row, `batch` of them: the engine
/// walks the skipped rows in an index, reading ids only.
pub(super) async fn walked_ids<K: StoredKind>(
    txn: &impl ConnectionTrait,
    backend: DbBackend,
    visibility: Visibility,
    query: &ListQuery<K>,
    offset: u64,
    batch: u64,
) -> Result<Vec<ItemId>> {
    let mut walk = ordered::<K>(backend, visibility, query)
        .select_only()
        .column(K::column(Field::Id))
        .offset(offset)
        .limit(batch);
    if backend == DbBackend::MySql {
        // MariaDB walks the index on a statement's first execution, then
        // plans it again as a full scan and sort (1 s instead of 60 ms at a
        // million rows): hold it to the index of the sort.
        let index = Alias::new(order_index::<K>(query.sort.field));
        QueryTrait::query(&mut walk).force_index(index, IndexHintScope::All);
    }
    Ok(walk.into_tuple::<ItemId>().all(txn).await?)
}

/// The index of each sort on MariaDB (see the migrations).
fn order_index<K: StoredKind>(field: SortField) -> String {
    let table = K::Entity::default().table_name();
    match field {
        SortField::CreatedAt => format!("{table}_live_created_at_id_idx"),
        SortField::Value => format!("{table}_{}_id_idx", K::column(Field::Value).as_str()),
        SortField::Country => format!("{table}_country_id_idx"),
        SortField::Status => format!("{table}_status_id_idx"),
    }
}

/// The rows of `ids`, in the list's order. (Fetched apart from the walk
/// that found them: as one query with the walk as a subquery, MariaDB's
/// planner reads the whole table in order to keep the page's rows.)
pub(super) fn by_ids<K: StoredKind>(ids: Vec<ItemId>, query: &ListQuery<K>) -> Select<K::Entity> {
    in_order(
        K::Entity::find().filter(K::column(Field::Id).is_in(ids)),
        query,
    )
}

fn sort_column<K: StoredKind>(field: SortField) -> K::Column {
    K::column(match field {
        SortField::Value => Field::Value,
        SortField::Country => Field::Country,
        SortField::Status => Field::Status,
        SortField::CreatedAt => Field::CreatedAt,
    })
}

/// Where the page after `item` starts.
pub(super) fn cursor<K: StoredKind>(item: &Item<K>, query: &ListQuery<K>) -> Cursor {
    let key = match query.sort.field {
        SortField::Value => SortKey::Value(item.value.as_str().to_owned()),
        SortField::Country => SortKey::Country(item.country),
        SortField::Status => SortKey::Status(item.status),
        SortField::CreatedAt => SortKey::CreatedAt(item.created_at),
    };
    Cursor { key, id: item.id }
}

/// Rows that come after `cursor` in the list's order: the keyset condition,
/// `key ≥ k AND (key > k OR id > i)` (mirrored for descending). The leading
/// `key ≥ k` lets every engine start a range scan of the `(key, id)` index
/// where the previous page ended, instead of reading from the top again. A
/// cursor of another sort field (a forged token) sorts by its own column,
/// which yields a valid, if odd, page of what the caller may see anyway.
pub(super) fn after<K: StoredKind>(cursor: &Cursor, query: &ListQuery<K>) -> Condition {
    let (field, key): (SortField, Value) = match cursor.key.clone() {
        SortKey::Value(value) => (SortField::Value, value.into()),
        SortKey::Country(country) => (SortField::Country, country.into()),
        SortKey::Status(status) => (SortField::Status, status.into()),
        SortKey::CreatedAt(at) => (SortField::CreatedAt, at.into()),
    };
    let sorted = sort_column::<K>(field);
    let id = K::column(Field::Id);
    let (from_key, beyond_key, beyond_id) = match query.sort.order {
        SortOrder::Asc => (sorted.gte(key.clone()), sorted.gt(key), id.gt(cursor.id)),
        SortOrder::Desc => (sorted.lte(key.clone()), sorted.lt(key), id.lt(cursor.id)),
    };
    Condition::all()
        .add(from_key)
        .add(Condition::any().add(beyond_key).add(beyond_id))
}
