//! Many creations in one transaction (`Import…`): each row's identifier is
//! checked against the live items and the rows before it, the free ones are
//! inserted in multi-row statements with their changes numbered from one
//! run of revisions, and rows with a `request_id` are remembered as their
//! own `Create…` would be: a row retried under its `request_id` answers
//! with the item it created, and writes nothing again.

use super::changelog::{change, change_at, log};
use super::entity::{Field, StoredKind};
use super::idempotency::{self, Remembered};
use super::items::{self, insert_all};
use super::pool::Store;
use super::runner::{self, Applied, Remember, Write, Writer, Written, retrying_deadlocks};
use super::taken::{is_taken, taken};
use crate::domain::{ChangeType, CountryCode, Identifier, Item, Revision, UserId};
use crate::error::{Error, Result};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityName, EntityTrait,
    IdenStatic, QueryFilter, QuerySelect, Statement,
};
use std::collections::{HashMap, HashSet};

/// One row of an import: the item to create, and its `request_id`.
#[derive(Debug, Clone)]
pub struct ImportRow<K: StoredKind> {
    pub item: Item<K>,
    pub remember: Option<Remember>,
}

/// What becomes of a row.
pub(super) enum Plan<K: StoredKind> {
    New(Item<K>, Option<Remember>),
    /// An earlier write under the row's `request_id` answers it.
    Answered(Revision),
    Refused(Error),
}

/// How a batch ended: written (or refused), or found an identifier taken
/// meanwhile by a concurrent writer, to be written row by row.
pub(super) enum Outcome<K: StoredKind> {
    Done(Vec<Result<Item<K>>>),
    RowByRow(Vec<Plan<K>>),
}

/// How many batches of one import may be written at once. On PostgreSQL
/// two: the next batch's rows go in while the one before holds the revision
/// counter until it commits (their count cells take one slot per
/// statement, so they do not contend). Elsewhere one: SQLite has one
/// writer, and MariaDB's row triggers would lock count cells of two batches
/// in opposite orders.
pub(super) fn batches_at_once(store: &Store) -> usize {
    match store.backend() {
        DbBackend::Postgres => 2,
        _ => 1,
    }
}

/// Creates the rows' items, each with its change, in one transaction; with
/// `atomic`, one refused row writes nothing (the others answer
/// `BatchAborted`). Answers per row, in order.
pub(super) async fn import<K: StoredKind>(
    store: &Store,
    rows: Vec<ImportRow<K>>,
    by: UserId,
    atomic: bool,
) -> Result<Vec<Result<Item<K>>>> {
    retrying_deadlocks("import batch", || {
        import_once(store, rows.clone(), by, atomic)
    })
    .await
}

/// One batch of an import, as one write.
struct Batch<K: StoredKind> {
    rows: Vec<ImportRow<K>>,
    by: UserId,
    atomic: bool,
}

impl<K: StoredKind> Write<K> for Batch<K> {
    type Answer = Outcome<K>;

    async fn apply(self, txn: &DatabaseTransaction) -> Result<Applied<Outcome<K>>> {
        let Self { rows, by, atomic } = self;
        if txn.get_database_backend() == DbBackend::Postgres {
            // Plan the identifier lookup for the table as it is now: a
            // generic plan cached while the table was empty may scan it for
            // each key once the import has grown it.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
        }
        let plans = plan(txn, by, rows).await?;
        if atomic && plans.iter().any(|plan| matches!(plan, Plan::Refused(_))) {
            let aborted = plans.into_iter().map(|plan| match plan {
                Plan::Refused(error) => Err(error),
                _ => Err(Error::BatchAborted),
            });
            return Ok(Applied::RollBack(Outcome::Done(aborted.collect())));
        }
        let new: Vec<Item<K>> = plans
            .iter()
            .filter_map(|plan| match plan {
                Plan::New(item, _) => Some(item.clone()),
                _ => None,
            })
            .collect();
        if let Err(error) = insert_all(txn, &new).await {
            return match is_taken(&error) {
                true => Ok(Applied::RollBack(Outcome::RowByRow(plans))),
                false => Err(error.into()),
            };
        }
        let mut changes: Vec<_> = new
            .iter()
            .map(|item| change(item, ChangeType::Created, Some(by), item.updated_at, None))
            .collect();
        let logged = match changes.is_empty() {
            true => None,
            false => Some(log(txn, &mut changes).await?),
        };
        let mut revisions = changes.iter().map(|change| change.revision);
        let mut remembered = Vec::new();
        for plan in &plans {
            if let Plan::New(_, remember) = plan {
                let revision = revisions.next().unwrap_or_default();
                if let Some(Remember { key, .. }) = remember {
                    remembered.push((key, revision));
                }
            }
        }
        idempotency::remember_all(txn, by, &remembered).await?;
        let mut answers = Vec::with_capacity(plans.len());
        for plan in plans {
            answers.push(match plan {
                Plan::New(item, _) => Ok(item),
                Plan::Refused(error) => Err(error),
                Plan::Answered(revision) => answered::<K>(txn, revision).await,
            });
        }
        Ok(Applied::Commit(Written {
            answer: Outcome::Done(answers),
            revision: logged.map(|(first, _)| first).unwrap_or_default(),
            last: logged.map(|(_, last)| last),
        }))
    }

    /// A batch remembers its rows one by one, never as a whole.
    fn recalled(items: Vec<Item<K>>) -> Outcome<K> {
        Outcome::Done(items.into_iter().map(Ok).collect())
    }
}

async fn import_once<K: StoredKind>(
    store: &Store,
    rows: Vec<ImportRow<K>>,
    by: UserId,
    atomic: bool,
) -> Result<Vec<Result<Item<K>>>> {
    let writer = Writer {
        by: Some(by),
        remember: None,
        answers: 0,
        limit: None,
    };
    let batch = Batch { rows, by, atomic };
    match runner::run(store, writer, batch).await? {
        Outcome::Done(answers) => Ok(answers),
        Outcome::RowByRow(plans) if atomic => Ok(plans
            .into_iter()
            .map(|plan| match plan {
                Plan::Refused(error) => Err(error),
                _ => Err(Error::Aborted(DbErr::Custom(
                    "an identifier of the batch was taken meanwhile: retry the batch".into(),
                ))),
            })
            .collect()),
        Outcome::RowByRow(plans) => {
            let mut answers = Vec::with_capacity(plans.len());
            for plan in plans {
                answers.push(match plan {
                    Plan::New(item, remember) => {
                        let writer = Writer::of_one(Some(by), remember);
                        runner::run(store, writer, items::Create { item, by }).await
                    }
                    Plan::Refused(error) => Err(error),
                    Plan::Answered(revision) => answered::<K>(store.connection()?, revision).await,
                });
            }
            Ok(answers)
        }
    }
}

/// The item an earlier write left, as its change recorded it.
async fn answered<K: StoredKind>(db: &impl ConnectionTrait, revision: Revision) -> Result<Item<K>> {
    change_at::<K>(db, revision)
        .await?
        .map(|change| change.item)
        .ok_or_else(|| {
            Error::internal(format!(
                "the remembered revision {} is not in the log",
                revision.get()
            ))
        })
}

/// What to do with each row: answer it from its `request_id`, refuse it (a
/// `request_id` used for another request, or twice in the batch; an
/// identifier a live item or an earlier row has), or create it.
async fn plan<K: StoredKind>(
    txn: &DatabaseTransaction,
    by: UserId,
    rows: Vec<ImportRow<K>>,
) -> Result<Vec<Plan<K>>> {
    // Identifiers first, remembered answers second: an import of the same
    // rows that commits between the two statements (PostgreSQL reads each
    // statement's own snapshot) is then seen by the second, which answers
    // its rows, and not by the first alone, which would call them taken.
    let mut taken_identifiers = live_identifiers(txn, &rows).await?;
    let keys: Vec<_> = rows
        .iter()
        .filter_map(|row| row.remember.as_ref().map(|r| &r.key))
        .collect();
    let remembered: HashMap<uuid::Uuid, Remembered> =
        match rows.iter().find_map(|row| row.remember.as_ref()) {
            Some(Remember { since, .. }) => idempotency::recall_all(txn, by, &keys, *since).await?,
            None => HashMap::new(),
        };
    let mut requests = HashSet::new();
    let per_country = K::RESOURCE.unique_per_country();
    Ok(rows
        .into_iter()
        .map(|ImportRow { item, remember }| {
            if let Some(Remember { key, .. }) = &remember {
                if !requests.insert(key.request_id) {
                    return Plan::Refused(Error::RequestIdReused);
                }
                if let Some(earlier) = remembered.get(&key.request_id) {
                    return match earlier.fingerprint == key.fingerprint {
                        true => Plan::Answered(earlier.revision),
                        false => Plan::Refused(Error::RequestIdReused),
                    };
                }
            }
            let identity = (item.value.key(), per_country.then_some(item.country));
            match taken_identifiers.insert(identity) {
                true => Plan::New(item, remember),
                false => Plan::Refused(taken(&item)),
            }
        })
        .collect())
}

/// The identifiers (with the country, for Sender IDs) of live items that
/// some row names.
async fn live_identifiers<K: StoredKind>(
    txn: &DatabaseTransaction,
    rows: &[ImportRow<K>],
) -> Result<HashSet<(String, Option<CountryCode>)>> {
    let per_country = K::RESOURCE.unique_per_country();
    let keys: Vec<String> = rows.iter().map(|row| row.item.value.key()).collect();
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<(String, CountryCode)> = match txn.get_database_backend() {
        DbBackend::Postgres => {
            // One index probe per key, whatever the statistics say: a table
            // that this very import is growing has none yet, and PostgreSQL
            // then scans every live row into a hash join (20 ms per batch
            // at 100,000 rows, growing with the table). The keys go as one
            // JSON parameter, as in `bulk`; OFFSET 0 keeps the subquery a
            // parameterized one.
            let table = K::Entity::default().table_name();
            let key = K::column(Field::ValueKey).as_str();
            let country = K::column(Field::Country).as_str();
            let deleted = K::column(Field::DeletedAt).as_str();
            let sql = format!(
                "SELECT d.{key}, d.{country} \
                 FROM json_array_elements_text($1::json) AS k(key) \
                 CROSS JOIN LATERAL (SELECT {key}, {country} FROM {table} \
                 WHERE {deleted} IS NULL AND {key} = k.key OFFSET 0) AS d"
            );
            let document = serde_json::Value::from(keys).to_string();
            let statement =
                Statement::from_sql_and_values(DbBackend::Postgres, sql, [document.into()]);
            let mut found = Vec::new();
            for row in txn.query_all_raw(statement).await? {
                found.push((row.try_get("", key)?, row.try_get("", country)?));
            }
            found
        }
        _ => {
            K::Entity::find()
                .select_only()
                .column(K::column(Field::ValueKey))
                .column(K::column(Field::Country))
                .filter(K::column(Field::DeletedAt).is_null())
                .filter(K::column(Field::ValueKey).is_in(keys))
                .into_tuple()
                .all(txn)
                .await?
        }
    };
    Ok(found
        .into_iter()
        .map(|(key, country)| (key, per_country.then_some(country)))
        .collect())
}
