//! The life of an item beyond create and assign: holds (with their expiry
//! and limit), undelete, and the rest a DID takes after it leaves an
//! organization.

use crate::assertions::{expect_error, expect_invalid};
use crate::helpers::{Binary, Engine, Identity, TestApp, organization};
use crate::resources::{
    AvailableParams, Dids, Record, Resource, Samples, SenderIds, WatchParams, WriteOptions,
};
use std::time::Duration;
use tonic::Code;

const CREATED: i32 = 1;
const ASSIGNED: i32 = 5;
const RESTORED: i32 = 4;
const HELD: i32 = 7;
const HOLD_RELEASED: i32 = 8;
const HOLD_EXPIRED: i32 = 9;
const MODIFIED: i32 = 2;

fn seconds(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: n,
        nanos: 0,
    })
}

fn secs(time: &Option<prost_types::Timestamp>) -> i64 {
    time.expect("a timestamp").seconds
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The ids on every page of `organization`'s available list, and its total.
async fn available_to<R: Resource>(api: &R, who: &Identity) -> (Vec<String>, u32) {
    let pages = api
        .list_available(
            who,
            AvailableParams {
                all_pages: true,
                limit: 100,
                ..AvailableParams::default()
            },
        )
        .await
        .unwrap();
    let ids = pages
        .iter()
        .flat_map(|page| page.data.iter().map(|item| item.id.clone()))
        .collect();
    (ids, pages[0].meta.total)
}

pub async fn a_hold_keeps_a_shared_item_for_one_organization<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let (buyer, rival) = (Identity::reseller(acme), Identity::reseller(globex));
    let item = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    let other = api
        .create(&admin, &R::value(2), "MA", None, 0)
        .await
        .unwrap();

    let held = api.hold(&buyer, &item.id, &acme.to_string()).await.unwrap();
    let hold = held.hold.clone().expect("the buyer sees its hold");
    assert_eq!(hold.organization_id, acme.to_string());
    let expires = secs(&hold.expire_time);
    assert!(
        (now_secs() + 1790..=now_secs() + 1800).contains(&expires),
        "30 min by default"
    );
    assert_ne!(held.etag, item.etag);
    assert_eq!(held.updated_by, None, "a reseller sees no staff ids");

    // The rival sees the item, shared, without the hold, and cannot take it.
    let seen = api.get(&rival, &item.id).await.unwrap();
    assert_eq!((seen.hold.as_ref(), seen.is_shared), (None, true));
    let (ids, total) = available_to(&api, &rival).await;
    assert_eq!((ids, total), (vec![other.id.clone()], 1));
    expect_error(
        api.get_available(&rival, &item.id, None).await,
        Code::NotFound,
        R::NOT_FOUND_REASON,
    );
    let status = expect_error(
        api.hold(&rival, &item.id, &globex.to_string()).await,
        Code::FailedPrecondition,
        "NOT_AVAILABLE",
    );
    assert!(!status.message().contains(&acme.to_string()), "{status:?}");
    expect_error(
        api.hold(&rival, &item.id, &acme.to_string()).await,
        Code::PermissionDenied,
        "ORGANIZATION_FORBIDDEN",
    );
    expect_error(
        api.hold(&Identity::accountant(), &item.id, &acme.to_string())
            .await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    // The holder still has it among what it may use.
    let (ids, total) = available_to(&api, &buyer).await;
    assert_eq!(total, 2);
    assert!(ids.contains(&item.id));
    api.get_available(&buyer, &item.id, None).await.unwrap();

    // Holding again extends; a bad ttl is refused by name.
    let extended = api
        .hold_with(
            &buyer,
            &item.id,
            &acme.to_string(),
            seconds(60),
            WriteOptions::default(),
        )
        .await
        .unwrap();
    let until = secs(&extended.hold.unwrap().expire_time);
    assert!((now_secs() + 55..=now_secs() + 60).contains(&until));
    for bad in [0, 86_401, -5] {
        expect_invalid(
            api.hold_with(
                &buyer,
                &item.id,
                &acme.to_string(),
                seconds(bad),
                WriteOptions::default(),
            )
            .await,
            "ttl",
        );
    }
    // A Duration's nanos stay below a second, as protobuf defines it.
    for nanos in [1_000_000_000, -1] {
        let ttl = prost_types::Duration { seconds: 60, nanos };
        expect_invalid(
            api.hold_with(
                &buyer,
                &item.id,
                &acme.to_string(),
                Some(ttl),
                WriteOptions::default(),
            )
            .await,
            "ttl.nanos",
        );
    }

    // Assigning to another organization is refused; to the holder, it
    // takes the item and ends the hold.
    expect_error(
        api.assign(&admin, &item.id, &globex.to_string()).await,
        Code::FailedPrecondition,
        "HELD",
    );
    let taken = api
        .assign(&admin, &item.id, &acme.to_string())
        .await
        .unwrap();
    assert_eq!(
        (taken.organization_id, taken.hold),
        (Some(acme.to_string()), None)
    );
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    let types: Vec<_> = history[0].data.iter().map(|c| c.change_type).collect();
    assert_eq!(types, [1, HELD, HELD, ASSIGNED]);
    assert_eq!(history[0].data[1].user_id, Some(buyer.user_id.to_string()));
}

pub async fn a_release_ends_only_the_callers_hold<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let item = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    let held = api
        .hold(&Identity::reseller(acme), &item.id, &acme.to_string())
        .await
        .unwrap();

    // Another tenant's release changes nothing and tells nothing.
    let untouched = api
        .release(&Identity::reseller(globex), &item.id)
        .await
        .unwrap();
    assert_eq!((untouched.hold, &untouched.etag), (None, &held.etag));
    assert!(api.get(&admin, &item.id).await.unwrap().hold.is_some());
    expect_error(
        api.release_with(&admin, &item.id, WriteOptions::etag(&item.etag))
            .await,
        Code::FailedPrecondition,
        "ETAG_MISMATCH",
    );

    let released = api
        .release(&Identity::reseller(acme), &item.id)
        .await
        .unwrap();
    assert_eq!(released.hold, None);
    let (ids, _) = available_to(&api, &Identity::reseller(globex)).await;
    assert_eq!(ids, std::slice::from_ref(&item.id));
    // Nothing left to release: unchanged.
    let again = api.release(&admin, &item.id).await.unwrap();
    assert_eq!(again.etag, released.etag);

    // An admin releases any organization's hold.
    api.hold(&admin, &item.id, &globex.to_string())
        .await
        .unwrap();
    let by_admin = api.release(&admin, &item.id).await.unwrap();
    assert_eq!(by_admin.hold, None);
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    let types: Vec<_> = history[0].data.iter().map(|c| c.change_type).collect();
    assert_eq!(types, [1, HELD, HOLD_RELEASED, HELD, HOLD_RELEASED]);
}

/// An admin's hold of `id` for `organization` that ends in a second.
async fn held_for_a_second<R: Resource>(api: &R, id: &str, organization: &uuid::Uuid) -> Record {
    let organization = organization.to_string();
    let options = WriteOptions::default();
    api.hold_with(&Identity::admin(), id, &organization, seconds(1), options)
        .await
        .unwrap()
}

pub async fn a_hold_expires_by_itself_and_its_expiry_is_recorded_once<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let rival = Identity::reseller(globex);
    let item = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    let listed = api.list(&admin, Default::default()).await.unwrap();
    let since_creation = || WatchParams {
        start_revision: listed[0].revision,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, since_creation()).await.unwrap();
    let mut rival_watch = api.watch(&rival, since_creation()).await.unwrap();
    let held = held_for_a_second(&api, &item.id, &acme).await;
    let expire_time = held.hold.clone().unwrap().expire_time;

    // From the expiry on, every read treats the item as unheld, recorded
    // or not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(api.get(&admin, &item.id).await.unwrap().hold, None);
    api.get_available(&rival, &item.id, None).await.unwrap();

    // The service records the expiry itself, once, with no user.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let expired = loop {
        let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
        let changes = history[0].data.clone();
        if changes.iter().any(|c| c.change_type == HOLD_EXPIRED) {
            break changes;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no HOLD_EXPIRED within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    assert_eq!(history[0].data, expired, "recorded once");
    let types: Vec<_> = expired.iter().map(|c| c.change_type).collect();
    assert_eq!(types, [1, HELD, HOLD_EXPIRED]);
    let expiry = &expired[2];
    assert_eq!((expiry.user_id.as_ref(), expiry.time), (None, expire_time));
    assert_eq!(expiry.item.hold, None);
    assert_eq!(
        expiry.item.etag, held.etag,
        "the item as seen did not change"
    );

    // Watchers (from after the creation) see the hold and its end.
    let mut events = Vec::new();
    while events.len() < 2 {
        let message = watch.within(Duration::from_secs(5)).await.unwrap();
        events.extend(message.events);
    }
    let types: Vec<_> = events
        .iter()
        .map(|e| (e.event_type, e.item.hold.is_some()))
        .collect();
    assert_eq!(types, [(MODIFIED, true), (MODIFIED, false)]);
    assert_eq!(events[1].revision, expiry.revision);
    // Another tenant saw the hold as a change of the item (its etag), but
    // never the hold, so its end changes nothing it sees: not sent.
    let mut seen = Vec::new();
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(1500), rival_watch.next()).await
    {
        seen.extend(message.unwrap().events);
    }
    let seen: Vec<_> = seen
        .iter()
        .map(|e| (e.event_type, e.item.hold.is_some()))
        .collect();
    assert_eq!(seen, [(MODIFIED, false)]);
}

/// Two server processes sweep the same database: each expiry is recorded
/// once, by whichever locks the item first.
pub async fn two_processes_record_each_expiry_once<R: Resource>(app: &TestApp) {
    let other = Binary::start_on(app.database_url(), &["--auth", "trusted-headers"], &[]);
    let there = R::over(other.channel().await);
    let api = R::new(app);
    let admin = Identity::admin();
    let acme = organization().to_string();
    let mut held = Vec::new();
    for n in 1..=6 {
        let item = api
            .create(&admin, &R::value(n), "MA", None, 0)
            .await
            .unwrap();
        let writer = if n % 2 == 0 { &api } else { &there };
        writer
            .hold_with(&admin, &item.id, &acme, seconds(1), WriteOptions::default())
            .await
            .unwrap();
        held.push(item.id);
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    for id in &held {
        let history = api.history(&admin, id, 0, 0, false).await.unwrap();
        let expiries = history[0]
            .data
            .iter()
            .filter(|change| change.change_type == HOLD_EXPIRED)
            .count();
        assert_eq!(expiries, 1, "{id}");
    }
}

/// With no sweep in any process, the next write of the item records the
/// ended hold first, timed at its expiry and by no user, and then decides on
/// the item as every read already saw it: an assign elsewhere is not HELD.
pub async fn a_write_records_an_ended_hold_before_it_decides<R: Resource>(app: &TestApp) {
    let unswept = TestApp::spawn_with(app.engine, |settings| {
        settings.changes.hold_sweep = Duration::ZERO;
    })
    .await;
    let api = R::new(&unswept);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let item = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    let held = held_for_a_second(&api, &item.id, &acme).await;
    let expire_time = held.hold.clone().unwrap().expire_time;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let types = |changes: &[crate::resources::ChangeRecord]| -> Vec<i32> {
        changes.iter().map(|change| change.change_type).collect()
    };
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    assert_eq!(types(&history[0].data), [CREATED, HELD], "nothing swept");

    let assigned = api
        .assign(&admin, &item.id, &globex.to_string())
        .await
        .unwrap();
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    let changes = &history[0].data;
    assert_eq!(types(changes), [CREATED, HELD, HOLD_EXPIRED, ASSIGNED]);
    assert_eq!(
        (changes[2].user_id.as_ref(), changes[2].time),
        (None, expire_time)
    );
    assert_eq!(changes[2].item.hold, None);
    assert_eq!(changes[3].item, assigned);
    unswept.stop().await;
}

pub async fn the_hold_limit_counts_a_resellers_live_holds<R: Resource>(app: &TestApp) {
    let limited = TestApp::spawn_with(app.engine, |settings| {
        settings.changes.max_holds_per_organization = 2;
    })
    .await;
    let api = R::new(&limited);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let buyer = Identity::reseller(acme);
    let mut items = Vec::new();
    for n in 1..=4 {
        items.push(
            api.create(&admin, &R::value(n), "MA", None, 0)
                .await
                .unwrap(),
        );
    }
    let org = acme.to_string();
    api.hold(&buyer, &items[0].id, &org).await.unwrap();
    api.hold(&buyer, &items[1].id, &org).await.unwrap();
    let status = expect_error(
        api.hold(&buyer, &items[2].id, &org).await,
        Code::ResourceExhausted,
        "HOLD_LIMIT_REACHED",
    );
    assert!(status.message().contains('2'), "{status:?}");
    assert_eq!(api.get(&admin, &items[2].id).await.unwrap().hold, None);
    // Extending a hold is not a new one; another tenant has its own limit;
    // an admin's holds are not limited.
    api.hold(&buyer, &items[1].id, &org).await.unwrap();
    api.hold(
        &Identity::reseller(globex),
        &items[2].id,
        &globex.to_string(),
    )
    .await
    .unwrap();
    api.hold(&admin, &items[3].id, &org).await.unwrap();
    // A released hold gives its place back.
    api.release(&buyer, &items[0].id).await.unwrap();
    api.release(&admin, &items[3].id).await.unwrap();
    api.hold(&buyer, &items[3].id, &org).await.unwrap();
    limited.stop().await;
}

/// The limit is counted in the hold's transaction, under a lock on the
/// organization: holds sent at once cannot all pass a count taken before
/// any of them is written.
pub async fn concurrent_holds_never_pass_the_limit<R: Resource>(app: &TestApp) {
    const LIMIT: usize = 3;
    let limited = TestApp::spawn_with(app.engine, |settings| {
        settings.changes.max_holds_per_organization = LIMIT as u32;
    })
    .await;
    let api = R::new(&limited);
    let admin = Identity::admin();
    let acme = organization();
    let buyer = Identity::reseller(acme);
    let mut ids = Vec::new();
    for n in 1..=12 {
        ids.push(
            api.create(&admin, &R::value(n), "MA", None, 0)
                .await
                .unwrap()
                .id,
        );
    }
    let org = acme.to_string();
    let answers = futures::future::join_all(ids.iter().map(|id| api.hold(&buyer, id, &org))).await;
    let mut held = 0;
    for answer in answers {
        match answer {
            Ok(_) => held += 1,
            Err(status) => {
                expect_error(
                    Err::<(), _>(status),
                    Code::ResourceExhausted,
                    "HOLD_LIMIT_REACHED",
                );
            }
        }
    }
    assert_eq!(held, LIMIT, "exactly the limit is held");
    let mut holds = 0;
    for id in &ids {
        holds += usize::from(api.get(&admin, id).await.unwrap().hold.is_some());
    }
    assert_eq!(holds, LIMIT);
    limited.stop().await;
}

pub async fn undelete_restores_unless_the_identifier_was_taken<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    expect_error(
        api.undelete(&admin, &item.id).await,
        Code::AlreadyExists,
        "NOT_DELETED",
    );
    let deleted = api.delete(&admin, &item.id).await.unwrap();
    expect_error(
        api.undelete(&Identity::reseller(organization()), &item.id)
            .await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    expect_error(
        api.undelete_with(&admin, &item.id, WriteOptions::etag(&item.etag))
            .await,
        Code::FailedPrecondition,
        "ETAG_MISMATCH",
    );
    let restored = api
        .undelete_with(&admin, &item.id, WriteOptions::etag(&deleted.etag))
        .await
        .unwrap();
    assert_eq!((&restored.deleted_at, &restored.deleted_by), (&None, &None));
    assert_eq!(restored.value, item.value);
    let listed = api.list(&admin, Default::default()).await.unwrap();
    assert_eq!(listed[0].meta.total, 1);
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    let last = history[0].data.last().unwrap().clone();
    assert_eq!((last.change_type, last.item), (RESTORED, restored.clone()));

    // The identifier was taken by another item meanwhile.
    api.delete(&admin, &item.id).await.unwrap();
    api.create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    expect_error(
        api.undelete(&admin, &item.id).await,
        Code::AlreadyExists,
        R::TAKEN_REASON,
    );
    assert!(
        api.get(&admin, &item.id)
            .await
            .unwrap()
            .deleted_at
            .is_some()
    );
    expect_error(
        api.undelete(&admin, &uuid::Uuid::now_v7().to_string())
            .await,
        Code::NotFound,
        R::NOT_FOUND_REASON,
    );
}

/// Aging is for DIDs: a DID that leaves an organization rests; a Sender
/// ID does not.
async fn an_unassigned_did_rests_before_it_is_offered_again(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.aging_period = Duration::from_secs(3600);
    })
    .await;
    let (dids, sender_ids) = (Dids::new(&app), SenderIds::new(&app));
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let rival = Identity::reseller(globex);
    let did = dids
        .create(&admin, &Dids::value(1), "MA", None, 0)
        .await
        .unwrap();
    dids.assign(&admin, &did.id, &acme.to_string())
        .await
        .unwrap();
    let released = dids.unassign(&admin, &did.id).await.unwrap();
    let resting = secs(&released.aging_expire_time);
    assert!((now_secs() + 3590..=now_secs() + 3600).contains(&resting));

    // Staff see the rest; resellers do not, and cannot use the DID.
    assert_eq!(
        dids.get(&rival, &did.id).await.unwrap().aging_expire_time,
        None
    );
    let (ids, total) = available_to(&dids, &rival).await;
    assert_eq!((ids.len(), total), (0, 0));
    expect_error(
        dids.hold(&rival, &did.id, &globex.to_string()).await,
        Code::FailedPrecondition,
        "NOT_AVAILABLE",
    );
    // An admin's explicit assignment still works, and ends the rest.
    let assigned = dids
        .assign(&admin, &did.id, &globex.to_string())
        .await
        .unwrap();
    assert_eq!(assigned.aging_expire_time, None);

    let sender = sender_ids
        .create(&admin, &SenderIds::value(1), "MA", None, 0)
        .await
        .unwrap();
    sender_ids
        .assign(&admin, &sender.id, &acme.to_string())
        .await
        .unwrap();
    sender_ids.unassign(&admin, &sender.id).await.unwrap();
    let (ids, _) = available_to(&sender_ids, &rival).await;
    assert_eq!(ids, [sender.id]);
    app.stop().await;
}

crate::for_both_resources!(
    a_hold_keeps_a_shared_item_for_one_organization,
    a_release_ends_only_the_callers_hold,
    a_hold_expires_by_itself_and_its_expiry_is_recorded_once,
    two_processes_record_each_expiry_once,
    a_write_records_an_ended_hold_before_it_decides,
    the_hold_limit_counts_a_resellers_live_holds,
    concurrent_holds_never_pass_the_limit,
    undelete_restores_unless_the_identifier_was_taken,
);

mod aging {
    use super::*;
    crate::for_every_engine!(an_unassigned_did_rests_before_it_is_offered_again);
}
