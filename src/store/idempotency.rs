//! The remembered answers of writes retried with a `request_id`: the
//! revision whose change answers it, and a hash of the request, per user.

use crate::domain::{RequestKey, Revision, Timestamp, UserId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;

const TABLE: &str = "idempotency_keys";

/// What a remembered write was, and which revision answers it.
#[derive(Debug, Clone)]
pub(super) struct Remembered {
    pub fingerprint: String,
    pub revision: Revision,
}

/// The write `key` names for `user`, if one was made since `since`. An
/// older one is forgotten here, so that the name can be used again.
pub(super) async fn recall(
    db: &impl ConnectionTrait,
    user: UserId,
    key: &RequestKey,
    since: Timestamp,
) -> Result<Option<Remembered>, DbErr> {
    let this = Expr::col(Alias::new("user_id"))
        .eq(user)
        .and(Expr::col(Alias::new("request_id")).eq(key.request_id));
    let select = Query::select()
        .columns([
            Alias::new("fingerprint"),
            Alias::new("revision"),
            Alias::new("created_at"),
        ])
        .from(Alias::new(TABLE))
        .and_where(this.clone())
        .to_owned();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(None);
    };
    let created_at: Timestamp = row.try_get("", "created_at")?;
    if created_at < since {
        let forget = Query::delete()
            .from_table(Alias::new(TABLE))
            .and_where(this)
            .to_owned();
        db.execute(&forget).await?;
        return Ok(None);
    }
    Ok(Some(Remembered {
        fingerprint: row.try_get("", "fingerprint")?,
        revision: row.try_get("", "revision")?,
    }))
}

/// Remembers that `revision` answers `key`. A unique violation means a
/// concurrent retry remembered it first.
pub(super) async fn remember(
    db: &impl ConnectionTrait,
    user: UserId,
    key: &RequestKey,
    revision: Revision,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(Alias::new(TABLE))
        .columns([
            Alias::new("user_id"),
            Alias::new("request_id"),
            Alias::new("fingerprint"),
            Alias::new("revision"),
            Alias::new("created_at"),
        ])
        .values_panic([
            user.into(),
            key.request_id.into(),
            key.fingerprint.clone().into(),
            revision.into(),
            Timestamp::now().into(),
        ])
        .to_owned();
    db.execute(&insert).await.map(drop)
}

/// The writes `keys` name for `user`, made since `since`, by request id.
/// Older ones are forgotten here, so that their names can be used again.
pub(super) async fn recall_all(
    db: &impl ConnectionTrait,
    user: UserId,
    keys: &[&RequestKey],
    since: Timestamp,
) -> Result<HashMap<uuid::Uuid, Remembered>, DbErr> {
    let these = || {
        Expr::col(Alias::new("user_id"))
            .eq(user)
            .and(Expr::col(Alias::new("request_id")).is_in(keys.iter().map(|k| k.request_id)))
    };
    let forget = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(these())
        .and_where(Expr::col(Alias::new("created_at")).lt(since))
        .to_owned();
    db.execute(&forget).await?;
    let select = Query::select()
        .columns([
            Alias::new("request_id"),
            Alias::new("fingerprint"),
            Alias::new("revision"),
        ])
        .from(Alias::new(TABLE))
        .and_where(these())
        .to_owned();
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("", "request_id")?,
                Remembered {
                    fingerprint: row.try_get("", "fingerprint")?,
                    revision: row.try_get("", "revision")?,
                },
            ))
        })
        .collect()
}

/// Remembers each key with the revision that answers it, in one statement.
pub(super) async fn remember_all(
    db: &impl ConnectionTrait,
    user: UserId,
    answers: &[(&RequestKey, Revision)],
) -> Result<(), DbErr> {
    if answers.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    let mut insert = Query::insert();
    insert.into_table(Alias::new(TABLE)).columns([
        Alias::new("user_id"),
        Alias::new("request_id"),
        Alias::new("fingerprint"),
        Alias::new("revision"),
        Alias::new("created_at"),
    ]);
    for (key, revision) in answers {
        insert.values_panic([
            user.into(),
            key.request_id.into(),
            key.fingerprint.clone().into(),
            (*revision).into(),
            now.into(),
        ]);
    }
    db.execute(&insert).await.map(drop)
}

/// Forgets every write made before `before`.
pub(super) async fn forget_before(
    db: &impl ConnectionTrait,
    before: Timestamp,
) -> Result<u64, DbErr> {
    let delete = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("created_at")).lt(before))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}
