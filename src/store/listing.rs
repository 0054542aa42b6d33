//! Lists: filters, ordering, keyset paging, and the page stream.
//!
//! A list runs in one read-only snapshot transaction: the count and every
//! page see the same data. The first page is found by OFFSET (a client may
//! ask for any page); each following page starts after the last row sent
//! (keyset), so streaming the whole inventory never re-reads skipped rows.
//! Pages go through a channel of one, so at most two pages are in memory, and
//! the producer stops (rolling the snapshot back) when the client goes away
//! or its deadline passes. It stops between queries, never inside one: a
//! query dropped halfway leaves its connection mid-reply, and sqlx then waits
//! forever to test it before reuse, which also holds up closing the pool.

use super::entity::{Field, StoredKind};
use super::repository::{Repository, column};
use super::row::Row;
use crate::budget::StreamPass;
use crate::domain::{Identifier, Item, ListQuery, Page, PageMeta, Scope, SortField, SortOrder};
use crate::error::{Error, Result, reason};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Value,
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

/// The character that escapes `%`, `_` and itself in LIKE patterns. Not the
/// backslash: PostgreSQL and MariaDB disagree on backslashes in literals.
const LIKE_ESCAPE: char = '!';

pub type PageReceiver<K> = mpsc::Receiver<Result<Page<Item<K>>>>;

impl<K: StoredKind> Repository<K> {
    /// Streams the pages of `query` into the returned channel, holding
    /// `pass` (its place in the stream budget) until the last page is sent.
    pub fn list(
        &self,
        query: ListQuery<K>,
        deadline: Option<Instant>,
        pass: StreamPass,
    ) -> PageReceiver<K> {
        let (sender, receiver) = mpsc::channel(1);
        let repository = self.clone();
        let stall = pass.stall_timeout();
        let task = async move {
            let produced = repository.produce(&query, &sender, deadline, stall).await;
            drop(pass);
            if let Err(error) = produced {
                // No connection is held now; the client may be gone already,
                // or still not reading.
                let _ = tokio::time::timeout(stall, sender.send(Err(error))).await;
            }
        };
        tokio::spawn(task.in_current_span());
        receiver
    }

    async fn produce(
        &self,
        query: &ListQuery<K>,
        sender: &mpsc::Sender<Result<Page<Item<K>>>>,
        deadline: Option<Instant>,
        stall: Duration,
    ) -> Result<()> {
        // The wait for a connection is bounded by the deadline; the begin
        // itself runs to its end in its own task (a query dropped halfway
        // spoils its connection), and is rolled back if nobody waits for it.
        let begin = tokio::spawn({
            let store = self.store().clone();
            async move { store.begin_snapshot().await }
        });
        let txn = match timeout_at(deadline, begin).await {
            Some(begun) => begun.map_err(|e| Error::internal(format!("begin: {e}")))??,
            None => return Err(Error::DeadlineExceeded),
        };
        let total = select::<K>(query).count(&txn).await?;
        let mut request = query.paging;
        let mut rows = ordered::<K>(query)
            .offset(request.offset())
            .limit(u64::from(request.limit()))
            .all(&txn)
            .await?;
        loop {
            let meta = PageMeta::new(request, total);
            let last: Option<Row> = rows.last().cloned().map(Into::into);
            let items = rows
                .into_iter()
                .map(|model| model.into().into_item())
                .collect::<Result<Vec<_>>>()?;
            // A slow client stalls the stream here, and only here: for the
            // stall timeout at most, then the stream ends and its snapshot
            // and connection go back.
            let send = tokio::time::timeout(stall, sender.send(Ok(Page { items, meta })));
            match timeout_at(deadline, send).await {
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(_))) => break, // the client went away
                Some(Err(_)) => {
                    txn.rollback().await?;
                    return Err(Error::ResourceExhausted {
                        reason: reason::STREAM_STALLED,
                        message: format!(
                            "the client took no page for {stall:?}: the stream was ended to \
                             free its database connection; read faster, or resume after the \
                             last item received"
                        ),
                    });
                }
                None => return Err(Error::DeadlineExceeded),
            }
            let Some(last) = last.filter(|_| query.all_pages && meta.has_next_page) else {
                break;
            };
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(Error::DeadlineExceeded);
            }
            request = request.next();
            rows = ordered::<K>(query)
                .filter(after::<K>(query, &last))
                .limit(u64::from(request.limit()))
                .all(&txn)
                .await?;
        }
        txn.rollback().await?;
        Ok(())
    }
}

/// `work`'s output, or `None` if `deadline` passes first.
async fn timeout_at<T>(deadline: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, work).await.ok(),
        None => Some(work.await),
    }
}

/// The rows of `query`, unordered (for counting).
fn select<K: StoredKind>(query: &ListQuery<K>) -> Select<K::Entity> {
    K::Entity::find().filter(condition::<K>(query))
}

fn ordered<K: StoredKind>(query: &ListQuery<K>) -> Select<K::Entity> {
    let order = match query.sort.order {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    select::<K>(query)
        .order_by(sort_column::<K>(query.sort.field), order.clone())
        .order_by(column::<K>(Field::Id), order)
}

fn sort_column<K: StoredKind>(field: SortField) -> <K::Entity as EntityTrait>::Column {
    column::<K>(match field {
        SortField::Value => Field::Value,
        SortField::Country => Field::Country,
        SortField::Status => Field::Status,
        SortField::CreatedAt => Field::CreatedAt,
    })
}

/// Rows that come after `last` in the list's order: the keyset condition,
/// `key ≥ k AND (key > k OR id > i)` (mirrored for descending). The leading
/// `key ≥ k` lets every engine start a range scan of the `(key, id)` index
/// where the previous page ended, instead of reading from the top again.
fn after<K: StoredKind>(query: &ListQuery<K>, last: &Row) -> Condition {
    let key: Value = match query.sort.field {
        SortField::Value => last.value.clone().into(),
        SortField::Country => last.country.clone().into(),
        SortField::Status => last.status.clone().into(),
        SortField::CreatedAt => last.created_at.into(),
    };
    let sorted = sort_column::<K>(query.sort.field);
    let id = column::<K>(Field::Id);
    let (from_key, beyond_key, beyond_id) = match query.sort.order {
        SortOrder::Asc => (sorted.gte(key.clone()), sorted.gt(key), id.gt(last.id)),
        SortOrder::Desc => (sorted.lte(key.clone()), sorted.lt(key), id.lt(last.id)),
    };
    Condition::all()
        .add(from_key)
        .add(Condition::any().add(beyond_key).add(beyond_id))
}

fn condition<K: StoredKind>(query: &ListQuery<K>) -> Condition {
    let col = column::<K>;
    let organization = col(Field::OrganizationId);
    let mut all = Condition::all();
    if !query.include_deleted {
        all = all.add(col(Field::DeletedAt).is_null());
    }
    match query.scope {
        Scope::Everything => {}
        Scope::SharedOr(None) => all = all.add(organization.is_null()),
        Scope::SharedOr(Some(own)) => {
            all = all.add(
                Condition::any()
                    .add(organization.is_null())
                    .add(organization.eq(own.as_uuid())),
            );
        }
    }
    if let Some(status) = query.status {
        all = all.add(col(Field::Status).eq(status.as_str()));
    }
    match query.shared {
        Some(true) => all = all.add(organization.is_null()),
        Some(false) => all = all.add(organization.is_not_null()),
        None => {}
    }
    if let Some(named) = query.organization_id {
        all = all.add(organization.eq(named.as_uuid()));
    }
    if !query.countries.is_empty() {
        all = all.add(col(Field::Country).is_in(query.countries.iter().map(|c| c.as_str())));
    }
    if !query.values.is_empty() {
        all = all.add(col(Field::ValueKey).is_in(query.values.iter().map(Identifier::key)));
    }
    if let Some(search) = &query.search {
        // Identifiers are ASCII, which every engine's LOWER folds; the
        // description is compared in its stored search form.
        let pattern = contains(&search.folded());
        let mut any = Condition::any().add(lower(col(Field::Value)).like(pattern.clone()));
        if query.search_description {
            any = any.add(col(Field::DescriptionKey).like(pattern));
        }
        all = all.add(any);
    }
    all
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
    use crate::domain::{
        CountryCode, Did, Identifier, NewItem, PageRequest, PhoneNumber, Sort, Status, Timestamp,
        UserId,
    };
    use crate::store::Store;

    /// A place in a fresh budget, for one admin's list.
    async fn pass() -> StreamPass {
        use crate::auth::{Caller, Role};
        let caller = Caller::new(UserId::from(uuid::Uuid::nil()), Role::Admin, None).unwrap();
        crate::budget::StreamBudget::new(&crate::config::Settings::defaults().streams, 4)
            .enter(&caller, None)
            .await
            .unwrap()
    }

    async fn store_with_dids(count: u32) -> (Store, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("numbering-unit-{}.db", uuid::Uuid::now_v7()));
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()), 4)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let repository = Repository::<Did>::new(store.clone());
        for n in 0..count {
            let new = NewItem {
                value: PhoneNumber::parse(&format!("1000{n}")).unwrap(),
                country: CountryCode::parse("MA").unwrap(),
                description: None,
                status: Status::Active,
            };
            let item = Item::create(new, UserId::from(uuid::Uuid::nil()), Timestamp::now());
            repository.insert(&item).await.unwrap();
        }
        (store, path)
    }

    fn remove_sqlite(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }

    fn every_page_one_by_one() -> ListQuery<Did> {
        ListQuery {
            scope: Scope::Everything,
            include_deleted: false,
            status: None,
            shared: None,
            organization_id: None,
            countries: Vec::new(),
            values: Vec::new(),
            search: None,
            search_description: true,
            sort: Sort {
                field: SortField::Value,
                order: SortOrder::Asc,
            },
            paging: PageRequest::new(1, 1).unwrap(),
            all_pages: true,
        }
    }

    #[tokio::test]
    async fn a_slow_reader_gets_deadline_exceeded_once_the_deadline_passes() {
        let (store, path) = store_with_dids(5).await;
        let deadline = Instant::now() + Duration::from_millis(200);
        let mut pages = Repository::<Did>::new(store.clone()).list(
            every_page_one_by_one(),
            Some(deadline),
            pass().await,
        );

        assert!(pages.recv().await.unwrap().is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut rest = Vec::new();
        while let Some(page) = pages.recv().await {
            rest.push(page);
        }

        assert!(rest.len() < 4, "every page arrived despite the deadline");
        assert!(
            matches!(rest.last(), Some(Err(Error::DeadlineExceeded))),
            "{rest:?}"
        );
        store.close().await.unwrap();
        remove_sqlite(&path);
    }

    #[tokio::test]
    async fn a_fast_reader_gets_every_page_before_the_deadline() {
        let (store, path) = store_with_dids(5).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut pages = Repository::<Did>::new(store.clone()).list(
            every_page_one_by_one(),
            Some(deadline),
            pass().await,
        );

        let mut values = Vec::new();
        while let Some(page) = pages.recv().await {
            values.extend(page.unwrap().items.into_iter().map(|item| item.value.key()));
        }

        assert_eq!(values, ["10000", "10001", "10002", "10003", "10004"]);
        store.close().await.unwrap();
        remove_sqlite(&path);
    }

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape() {
        let pattern: Expr = contains("50%_a!\\").into();
        let rendered = format!("{pattern:?}");
        assert!(rendered.contains(r"%50!%!_a!!\\%"), "{rendered}");
    }
}
