//! Which rows a read selects: the caller's visibility, then the filter, as
//! one SQL condition. Every read (get, get available, the lists) builds its
//! WHERE clause here, so none can leave visibility out.

use super::entity::{Field, StoredKind};
use crate::domain::{Filter, Holders, Identifier, OrganizationId, Visibility};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, DbBackend};
use std::marker::PhantomData;

/// The character that escapes `%`, `_` and itself in LIKE patterns. Not the
/// backslash: PostgreSQL and MariaDB disagree on backslashes in literals.
const LIKE_ESCAPE: char = '!';

/// The rows `visibility` lets a caller see that `filter` keeps.
pub(super) fn selection<K: StoredKind>(
    backend: DbBackend,
    visibility: Visibility,
    filter: &Filter<K>,
) -> Condition {
    let mut all = Condition::all()
        .add(kept::<Items<K>, K>(visibility, filter))
        .add(matched(backend, filter));
    if let Some(unavailable) = unavailable::<K>(filter) {
        all = all.add(unavailable.not());
    }
    all
}

/// The rows the kept counts include but `filter`'s availability leaves out
/// (shared items held for others, or resting): what a total summed from
/// the counts must take away. `None` when availability does not apply.
pub(super) fn counted_but_unavailable<K: StoredKind>(
    visibility: Visibility,
    filter: &Filter<K>,
) -> Option<Condition> {
    let unavailable = unavailable::<K>(filter)?;
    Some(
        Condition::all()
            .add(kept::<Items<K>, K>(visibility, filter))
            .add(unavailable),
    )
}

/// Shared items that another organization than the filter's holds at its
/// instant, or that rest then. Every comparison is guarded against NULL, so
/// that the condition's negation is exact.
fn unavailable<K: StoredKind>(filter: &Filter<K>) -> Option<Condition> {
    let now = filter.available_at?;
    let col = K::column;
    let mut held = Condition::all()
        .add(col(Field::HoldExpireTime).is_not_null())
        .add(col(Field::HoldExpireTime).gt(now));
    if let Holders::SharedAnd(Some(own)) = filter.holders {
        held = held.add(col(Field::HoldOrganizationId).ne(own));
    }
    let resting = Condition::all()
        .add(col(Field::AgingExpireTime).is_not_null())
        .add(col(Field::AgingExpireTime).gt(now));
    Some(
        Condition::all()
            .add(col(Field::OrganizationId).is_null())
            .add(Condition::any().add(held).add(resting)),
    )
}

/// The same condition over the kept counts (`{kind}_counts`), unless
/// `filter` names identifiers or searches, which only the rows can answer.
pub(super) fn counted<K: StoredKind>(
    visibility: Visibility,
    filter: &Filter<K>,
) -> Option<Condition> {
    (filter.values.is_empty() && filter.search.is_none())
        .then(|| kept::<Counts<K>, K>(visibility, filter))
}

/// Where a condition finds what it tests: the items themselves, or the
/// counts the database keeps of them per status, country, holder and
/// deletion.
trait Columns {
    fn status() -> Expr;
    fn country() -> Expr;
    fn holder() -> Expr;
    fn shared() -> Condition;
    fn live() -> Condition;
}

struct Items<K>(PhantomData<K>);

impl<K: StoredKind> Columns for Items<K> {
    fn status() -> Expr {
        K::column(Field::Status).into_expr()
    }
    fn country() -> Expr {
        K::column(Field::Country).into_expr()
    }
    fn holder() -> Expr {
        K::column(Field::OrganizationId).into_expr()
    }
    fn shared() -> Condition {
        Condition::all().add(K::column(Field::OrganizationId).is_null())
    }
    fn live() -> Condition {
        Condition::all().add(K::column(Field::DeletedAt).is_null())
    }
}

struct Counts<K>(PhantomData<K>);

impl<K: StoredKind> Counts<K> {
    fn column(name: &'static str) -> Expr {
        Expr::col((Alias::new(K::COUNTS), Alias::new(name)))
    }
}

impl<K: StoredKind> Columns for Counts<K> {
    fn status() -> Expr {
        Self::column("status")
    }
    fn country() -> Expr {
        Self::column("country")
    }
    fn holder() -> Expr {
        Self::column("holder")
    }
    /// The shared pool's holder is the nil UUID (no organization id is).
    fn shared() -> Condition {
        let nil = OrganizationId::from(uuid::Uuid::nil());
        Condition::all().add(Self::holder().eq(nil))
    }
    fn live() -> Condition {
        Condition::all().add(Self::column("deleted").eq(false))
    }
}

/// Visibility, then every filter but identifiers and search.
fn kept<C: Columns, K: StoredKind>(visibility: Visibility, filter: &Filter<K>) -> Condition {
    let mut all = Condition::all().add(visible::<C>(visibility));
    if !filter.include_deleted {
        all = all.add(C::live());
    }
    if let Some(status) = filter.status {
        all = all.add(C::status().eq(status));
    }
    match filter.shared {
        Some(true) => all = all.add(C::shared()),
        Some(false) => all = all.add(C::shared().not()),
        None => {}
    }
    if let Some(named) = filter.organization_id {
        all = all.add(C::holder().eq(named));
    }
    if let Holders::SharedAnd(holder) = filter.holders {
        all = all.add(shared_or::<C>(holder));
    }
    if !filter.countries.is_empty() {
        all = all.add(C::country().is_in(filter.countries.iter().copied()));
    }
    all
}

/// The one condition of what a caller may see; `Caller::visibility` decides
/// which applies. The SQL form of `Visibility::sees`, held equal to it by
/// `the_sql_visibility_is_the_rust_rule` below.
fn visible<C: Columns>(visibility: Visibility) -> Condition {
    match visibility {
        Visibility::Everything => Condition::all(),
        Visibility::SharedOrOwn(own) => Condition::all().add(C::live()).add(shared_or::<C>(own)),
    }
}

/// Items in the shared pool, or held by `organization`.
fn shared_or<C: Columns>(organization: Option<OrganizationId>) -> Condition {
    let shared = Condition::any().add(C::shared());
    match organization {
        Some(own) => shared.add(C::holder().eq(own)),
        None => shared,
    }
}

/// The identifier and search filters, which only the rows answer.
fn matched<K: StoredKind>(backend: DbBackend, filter: &Filter<K>) -> Condition {
    let col = K::column;
    let mut all = Condition::all();
    if !filter.values.is_empty() {
        all = all.add(col(Field::ValueKey).is_in(filter.values.iter().map(Identifier::key)));
    }
    if let Some(search) = &filter.search {
        let folded = search.folded();
        if backend == DbBackend::Sqlite && folded.chars().count() >= 3 {
            return all.add(trigram_match::<K>(&folded, filter.search_description));
        }
        // Identifiers are ASCII, which every engine's LOWER folds; the
        // description is compared in its stored search form. PostgreSQL's
        // trigram indexes are on exactly these expressions.
        let pattern = contains(&folded);
        let mut any = Condition::any().add(lower(col(Field::Value)).like(pattern.clone()));
        if filter.search_description {
            any = any.add(col(Field::DescriptionKey).like(pattern));
        }
        all = all.add(any);
    }
    all
}

/// SQLite's FTS5 trigram index (`{kind}_search`): ids whose identifier (or
/// description key) holds `folded`, as a phrase of its trigrams, which
/// matches the same substrings as the LIKE pattern would.
fn trigram_match<K: StoredKind>(folded: &str, description_too: bool) -> Condition {
    let columns = if description_too {
        "{value description_key}"
    } else {
        "value"
    };
    let query = format!("{columns} : \"{}\"", folded.replace('"', "\"\""));
    let table = Alias::new(K::SEARCH);
    let ids = Query::select()
        .column((table.clone(), Alias::new("id")))
        .from(table)
        .and_where(Expr::cust_with_values(
            format!("{} MATCH ?", K::SEARCH),
            [query],
        ))
        .to_owned();
    Condition::all().add(K::column(Field::Id).in_subquery(ids))
}

fn lower(column: impl ColumnTrait) -> Expr {
    Func::lower(column.into_expr()).into()
}

/// A substring pattern of folded `text` in which `%`, `_` and the escape
/// match themselves.
fn contains(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape() {
        let pattern: Expr = contains("50%_a!\\").into();
        let rendered = format!("{pattern:?}");
        assert!(rendered.contains(r"%50!%!_a!!\\%"), "{rendered}");
    }

    /// One rule, two forms: over any items, the rows the SQL condition
    /// selects, and the total the kept counts give under it, are the items
    /// the Rust rule shows, for every kind of caller.
    #[test]
    fn the_sql_visibility_is_the_rust_rule() {
        use crate::domain::{CountryCode, Did, Item, ItemId, NewItem, PhoneNumber, Status};
        use crate::domain::{Timestamp, UserId};
        use proptest::prelude::*;
        use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
        use std::collections::BTreeSet;

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let path = std::env::temp_dir().join(format!("numbering-rule-{}.db", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = runtime.block_on(async {
            let store = super::super::pool::Store::connect(&url, 2, std::time::Duration::ZERO)
                .await
                .unwrap();
            store.migrate().await.unwrap();
            store
        });
        let organizations = [None, Some(org(1)), Some(org(2))];
        let callers = [
            Visibility::Everything,
            Visibility::SharedOrOwn(None),
            Visibility::SharedOrOwn(Some(org(1))),
            Visibility::SharedOrOwn(Some(org(2))),
        ];
        let placements = proptest::collection::vec((0..3usize, any::<bool>()), 0..12);
        let config = ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(placed in placements, caller in 0..4usize)| {
            let visibility = callers[caller];
            let by = UserId::from(uuid::Uuid::nil());
            let at = Timestamp::now();
            let items: Vec<Item<Did>> = placed
                .iter()
                .enumerate()
                .map(|(n, &(holder, deleted))| {
                    let new = NewItem {
                        value: PhoneNumber::parse(&format!("+2125000{n:05}")).unwrap(),
                        country: CountryCode::parse("MA").unwrap(),
                        description: None,
                        status: Status::Active,
                    };
                    let mut item = Item::create(new, by, at);
                    item.organization_id = organizations[holder];
                    if deleted {
                        item.deleted_at = Some(at);
                        item.deleted_by = Some(by);
                    }
                    item
                })
                .collect();
            let shown: BTreeSet<ItemId> = items
                .iter()
                .filter(|item| visibility.shows(*item))
                .map(|item| item.id)
                .collect();
            let (selected, total) = runtime.block_on(async {
                let txn = store.begin_write().await.unwrap();
                <Did as StoredKind>::Entity::delete_many().exec(&txn).await.unwrap();
                super::super::items::insert_all(&txn, &items).await.unwrap();
                let everything = Filter::<Did>::everything();
                let selected: Vec<ItemId> = <Did as StoredKind>::Entity::find()
                    .select_only()
                    .column(<Did as StoredKind>::column(Field::Id))
                    .filter(selection(DbBackend::Sqlite, visibility, &everything))
                    .into_tuple()
                    .all(&txn)
                    .await
                    .unwrap();
                let sum = Query::select()
                    .expr_as(Expr::cust("COALESCE(SUM(items), 0)"), Alias::new("total"))
                    .from(Alias::new(<Did as StoredKind>::COUNTS))
                    .cond_where(counted(visibility, &everything).unwrap())
                    .to_owned();
                let row = txn.query_one(&sum).await.unwrap().unwrap();
                let total: i64 = row.try_get("", "total").unwrap();
                txn.commit().await.unwrap();
                (selected.into_iter().collect::<BTreeSet<_>>(), total)
            });
            prop_assert_eq!(&selected, &shown, "{:?} over {:?}", visibility, placed);
            prop_assert_eq!(total, shown.len() as i64, "{:?} over {:?}", visibility, placed);
        });
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }

    fn org(n: u128) -> OrganizationId {
        OrganizationId::from(uuid::Uuid::from_u128(n))
    }
}
