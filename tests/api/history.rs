//! The change log through the API: each item's history, the holder of an
//! identifier at any instant, etags, and writes retried with a request_id.

use crate::assertions::{expect_error, expect_invalid};
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{Changes, Record, Resource, WriteOptions};
use tonic::Code;

const CREATED: i32 = 1;
const UPDATED: i32 = 2;
const DELETED: i32 = 3;
const ASSIGNED: i32 = 5;
const UNASSIGNED: i32 = 6;

fn later(time: &Option<prost_types::Timestamp>, micros: i64) -> prost_types::Timestamp {
    let time = (*time).expect("a timestamp");
    let total = time.seconds * 1_000_000 + i64::from(time.nanos / 1000) + micros;
    prost_types::Timestamp {
        seconds: total.div_euclid(1_000_000),
        nanos: i32::try_from(total.rem_euclid(1_000_000) * 1000).unwrap(),
    }
}

pub async fn history_follows_an_identifier_across_its_life<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let acme = organization().to_string();
    let value = R::value(1);
    let created = api.create(&admin, &value, "MA", None, 0).await.unwrap();
    let assigned = api.assign(&admin, &created.id, &acme).await.unwrap();
    let unassigned = api.unassign(&admin, &created.id).await.unwrap();
    let deleted = api.delete(&admin, &created.id).await.unwrap();
    let again = api.create(&admin, &value, "MA", None, 0).await.unwrap();

    let pages = api.history(&admin, &created.id, 0, 2, true).await.unwrap();
    let changes: Vec<_> = pages.iter().flat_map(|page| page.data.clone()).collect();
    assert_eq!(pages.len(), 2, "four changes in pages of two");
    assert_eq!(pages[0].meta.total, 4);
    let types: Vec<_> = changes.iter().map(|c| c.change_type).collect();
    assert_eq!(types, [CREATED, ASSIGNED, UNASSIGNED, DELETED]);
    let items: Vec<Record> = changes.iter().map(|c| c.item.clone()).collect();
    assert_eq!(
        items,
        [created.clone(), assigned, unassigned, deleted.clone()]
    );
    assert!(changes.windows(2).all(|w| w[0].revision < w[1].revision));
    assert!(
        changes
            .iter()
            .all(|c| c.user_id == Some(admin.user_id.to_string()) && c.time == c.item.updated_at)
    );
    let fresh = api.history(&admin, &again.id, 0, 0, false).await.unwrap();
    assert_eq!(fresh[0].data.len(), 1);
    assert!(fresh[0].data[0].revision > changes[3].revision);
    assert!(
        pages[0].revision >= fresh[0].data[0].revision,
        "meta.revision is the head"
    );

    // Who held the identifier at each instant; at a change's own time the
    // state right after it counts.
    let accountant = Identity::accountant();
    let at = |time| api.as_of(&accountant, &value, "MA", time);
    assert_eq!(at(later(&created.created_at, 0)).await.unwrap(), created);
    let held = at(later(&changes[1].time, 1)).await.unwrap();
    assert_eq!(held.organization_id, Some(acme));
    let between = later(&deleted.deleted_at, 0);
    if again.created_at.unwrap() != between {
        expect_error(at(between).await, Code::NotFound, R::NOT_FOUND_REASON);
    }
    expect_error(
        at(later(&created.created_at, -1)).await,
        Code::NotFound,
        R::NOT_FOUND_REASON,
    );
    assert_eq!(at(later(&again.created_at, 5)).await.unwrap(), again);
    let spelled = R::same_value_spelled_otherwise(&value);
    let now = later(&again.created_at, 1_000_000);
    assert_eq!(
        api.as_of(&admin, &spelled, "MA", now).await.unwrap().id,
        again.id
    );
}

pub async fn history_is_for_staff<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    let reseller = Identity::reseller(organization());
    expect_error(
        api.history(&reseller, &item.id, 0, 0, false).await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    expect_error(
        api.as_of(&reseller, &item.value, "MA", later(&item.created_at, 1))
            .await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    expect_error(
        api.history(&Identity::admin(), &unknown, 0, 0, false).await,
        Code::NotFound,
        R::NOT_FOUND_REASON,
    );
    expect_invalid(
        api.history(&Identity::admin(), "nope", 0, 0, false).await,
        "id",
    );
}

pub async fn a_stale_etag_changes_nothing<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api.seed(1, "MA").await;
    assert_eq!(item.etag.len(), 16);
    let describe = |text: &str| Changes {
        description: Some(text.into()),
        ..Changes::default()
    };
    let first = api
        .update_with(
            &admin,
            &item.id,
            describe("one"),
            WriteOptions::etag(&item.etag),
        )
        .await
        .unwrap();
    assert_ne!(first.etag, item.etag, "a write changes the etag");

    expect_error(
        api.update_with(
            &admin,
            &item.id,
            describe("two"),
            WriteOptions::etag(&item.etag),
        )
        .await,
        Code::FailedPrecondition,
        "ETAG_MISMATCH",
    );
    let stale = WriteOptions::etag(&item.etag);
    let org = organization().to_string();
    for refused in [
        api.delete_with(&admin, &item.id, stale.clone()).await,
        api.assign_with(&admin, &item.id, &org, stale.clone()).await,
        api.unassign_with(&admin, &item.id, stale.clone()).await,
    ] {
        expect_error(refused, Code::FailedPrecondition, "ETAG_MISMATCH");
    }
    assert_eq!(api.get(&admin, &item.id).await.unwrap(), first);
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    assert_eq!(history[0].data.len(), 2, "refused writes leave no change");

    let deleted = api
        .delete_with(&admin, &item.id, WriteOptions::etag(&first.etag))
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some());
}

pub async fn a_retried_write_applies_once<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let request_id = uuid::Uuid::new_v4().to_string();
    let value = R::value(1);
    let created = api
        .create_with(&admin, &value, "MA", &request_id)
        .await
        .unwrap();
    // A later write, then the retry: it answers as the first call did.
    api.update(
        &admin,
        &created.id,
        Changes {
            description: Some("later".into()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    let retried = api
        .create_with(&admin, &value, "MA", &request_id)
        .await
        .unwrap();
    assert_eq!(retried, created);

    // Another user's request_id is another name.
    let other = Identity::admin();
    expect_error(
        api.create_with(&other, &value, "MA", &request_id).await,
        Code::AlreadyExists,
        R::TAKEN_REASON,
    );
    // The same name for another request is refused.
    let status = expect_error(
        api.create_with(&admin, &R::value(2), "MA", &request_id)
            .await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    assert!(status.message().starts_with("request_id"), "{status:?}");
    // A call that failed is not remembered.
    let failed = uuid::Uuid::new_v4().to_string();
    expect_error(
        api.create_with(&admin, &value, "MA", &failed).await,
        Code::AlreadyExists,
        R::TAKEN_REASON,
    );
    let reused = api.create_with(&admin, &R::value(3), "MA", &failed).await;
    assert!(reused.is_ok(), "{reused:?}");

    // Writes on an item retried: one change each.
    let acme = organization().to_string();
    let assign = WriteOptions::request_id(&uuid::Uuid::new_v4().to_string());
    let first = api
        .assign_with(&admin, &created.id, &acme, assign.clone())
        .await
        .unwrap();
    api.unassign(&admin, &created.id).await.unwrap();
    let again = api
        .assign_with(&admin, &created.id, &acme, assign)
        .await
        .unwrap();
    assert_eq!(again, first, "the retry answers with the first response");
    assert!(api.get(&admin, &created.id).await.unwrap().is_shared);
    let history = api.history(&admin, &created.id, 0, 0, false).await.unwrap();
    let types: Vec<_> = history[0].data.iter().map(|c| c.change_type).collect();
    assert_eq!(types, [CREATED, UPDATED, ASSIGNED, UNASSIGNED]);
    expect_invalid(
        api.create_with(&admin, &R::value(4), "MA", "not-a-uuid")
            .await,
        "request_id",
    );
}

pub async fn concurrent_retries_write_once<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let request_id = uuid::Uuid::new_v4().to_string();
    let value = R::value(7);
    let calls = (0..8).map(|_| {
        let (api, admin, value, request_id) = (
            api.clone(),
            admin.clone(),
            value.clone(),
            request_id.clone(),
        );
        tokio::spawn(async move { api.create_with(&admin, &value, "MA", &request_id).await })
    });
    let answers: Vec<Record> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().expect("every retry gets the answer"))
        .collect();
    assert!(answers.iter().all(|answer| *answer == answers[0]));

    let item = &answers[0];
    let describe = WriteOptions::request_id(&uuid::Uuid::new_v4().to_string());
    let calls = (0..8).map(|_| {
        let (api, admin, id, options) = (
            api.clone(),
            admin.clone(),
            item.id.clone(),
            describe.clone(),
        );
        tokio::spawn(async move {
            let changes = Changes {
                description: Some("once".into()),
                ..Changes::default()
            };
            api.update_with(&admin, &id, changes, options).await
        })
    });
    let updates: Vec<Record> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();
    assert!(updates.iter().all(|update| *update == updates[0]));
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    assert_eq!(history[0].meta.total, 2, "one creation, one update");
}

crate::for_both_resources!(
    history_follows_an_identifier_across_its_life,
    history_is_for_staff,
    a_stale_etag_changes_nothing,
    a_retried_write_applies_once,
    concurrent_retries_write_once,
);
