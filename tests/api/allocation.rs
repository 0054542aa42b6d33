//! `AllocateDids`: all or none, lowest numbers first, filtered, and never
//! one number to two callers, however many allocate at once.

use crate::assertions::{expect_error, expect_invalid};
use crate::helpers::{Engine, Identity, TestApp, organization};
use crate::resources::{Changes, Dids, ListParams, Resource};
use numbering::proto::v1 as pb;
use std::collections::HashSet;
use tonic::{Code, Status};
use tonic_types::StatusExt;

async fn allocate(
    api: &Dids,
    who: &Identity,
    request: pb::AllocateDidsRequest,
) -> Result<Vec<pb::Did>, Status> {
    Ok(api
        .client()
        .allocate_dids(who.request(request))
        .await?
        .into_inner()
        .dids)
}

fn request(organization: &uuid::Uuid, count: u32) -> pb::AllocateDidsRequest {
    pb::AllocateDidsRequest {
        organization_id: organization.to_string(),
        count,
        ..pb::AllocateDidsRequest::default()
    }
}

async fn create(api: &Dids, number: &str, country: &str) -> String {
    api.create(&Identity::admin(), number, country, None, 0)
        .await
        .unwrap()
        .id
}

async fn owned_by(api: &Dids, organization: &uuid::Uuid) -> u32 {
    let params = ListParams {
        organization_id: Some(organization.to_string()),
        ..ListParams::default()
    };
    api.list(&Identity::admin(), params).await.unwrap()[0]
        .meta
        .total
}

async fn allocation_takes_the_lowest_available_numbers_all_or_none(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let api = Dids::new(&app);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let mut casablanca = Vec::new();
    // Created out of order: allocation goes by number, not by age.
    for n in [6, 2, 3, 4, 5, 1] {
        casablanca.push((n, create(&api, &format!("+21252200000{n}"), "MA").await));
    }
    casablanca.sort();
    let id = |n: usize| casablanca[n - 1].1.clone();
    for n in 1..=3 {
        create(&api, &format!("21252300000{n}"), "MA").await;
    }
    create(&api, "+33100000001", "FR").await;
    // Not available: held by another organization, deleted, inactive,
    // assigned.
    api.hold(&Identity::reseller(globex), &id(2), &globex.to_string())
        .await
        .unwrap();
    api.delete(&admin, &id(3)).await.unwrap();
    let inactive = Changes {
        status: Some(2),
        ..Changes::default()
    };
    api.update(&admin, &id(4), inactive).await.unwrap();
    api.assign(&admin, &id(5), &globex.to_string())
        .await
        .unwrap();

    let taken = allocate(
        &api,
        &admin,
        pb::AllocateDidsRequest {
            country: Some("MA".into()),
            number_prefix: Some("+212522".into()),
            ..request(&acme, 2)
        },
    )
    .await
    .unwrap();
    let numbers: Vec<_> = taken.iter().map(|did| did.number.as_str()).collect();
    assert_eq!(numbers, ["+212522000001", "+212522000006"]);
    assert!(
        taken
            .iter()
            .all(|did| did.organization_id == Some(acme.to_string()))
    );

    // Fewer than asked: nothing is written, and the error says how many.
    for (prefix, count, available) in [(Some("212522"), 1, 0), (None, 5, 3)] {
        let status = expect_error(
            allocate(
                &api,
                &admin,
                pb::AllocateDidsRequest {
                    country: Some("MA".into()),
                    number_prefix: prefix.map(Into::into),
                    ..request(&acme, count)
                },
            )
            .await,
            Code::FailedPrecondition,
            "NOT_ENOUGH_AVAILABLE",
        );
        let info = status.get_error_details().error_info().cloned().unwrap();
        assert_eq!(info.metadata["available"], available.to_string());
    }
    assert_eq!(owned_by(&api, &acme).await, 2);

    // A reseller may allocate holds for its own organization, and only
    // that.
    let buyer = Identity::reseller(acme);
    let held = allocate(
        &api,
        &buyer,
        pb::AllocateDidsRequest {
            hold: true,
            ttl: Some(prost_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
            number_prefix: Some("2125230".into()),
            ..request(&acme, 2)
        },
    )
    .await
    .unwrap();
    assert!(held.iter().all(|did| {
        did.is_shared
            && did.hold.as_ref().map(|h| h.organization_id.clone()) == Some(acme.to_string())
    }));
    assert_eq!(held[0].number, "212523000001");
    expect_error(
        allocate(&api, &buyer, request(&acme, 1)).await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    expect_error(
        allocate(
            &api,
            &buyer,
            pb::AllocateDidsRequest {
                hold: true,
                ..request(&globex, 1)
            },
        )
        .await,
        Code::PermissionDenied,
        "ORGANIZATION_FORBIDDEN",
    );
    expect_error(
        allocate(&api, &Identity::accountant(), request(&acme, 1)).await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
    for (bad, field) in [
        (request(&acme, 0), "count"),
        (request(&acme, 1001), "count"),
        (
            pb::AllocateDidsRequest {
                number_prefix: Some("21a".into()),
                ..request(&acme, 1)
            },
            "number_prefix",
        ),
        (
            pb::AllocateDidsRequest {
                country: Some("ZZ".into()),
                ..request(&acme, 1)
            },
            "country",
        ),
    ] {
        expect_invalid(allocate(&api, &admin, bad).await, field);
    }

    // A retry with the same request_id answers with the same DIDs.
    let named = pb::AllocateDidsRequest {
        country: Some("FR".into()),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..request(&acme, 1)
    };
    let first = allocate(&api, &admin, named.clone()).await.unwrap();
    let again = allocate(&api, &admin, named).await.unwrap();
    assert_eq!(first, again);
    let history = api
        .history(&admin, &first[0].id, 0, 0, false)
        .await
        .unwrap();
    assert_eq!(history[0].meta.total, 2, "created, then assigned once");
    app.stop().await;
}

/// 20 allocations of 50 at once from a pool of 1,000: every one succeeds
/// (on PostgreSQL and MariaDB by skipping the rows others have locked; on
/// SQLite one writer at a time), and no number goes out twice.
async fn concurrent_allocations_never_share_a_number(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let api = Dids::new(&app);
    crate::helpers::seed_bulky_dids(app.channel.clone(), 1000).await;
    let calls = (0..20).map(|_| {
        let api = api.clone();
        tokio::spawn(async move {
            let organization = organization();
            allocate(&api, &Identity::admin(), request(&organization, 50)).await
        })
    });
    let mut numbers = HashSet::new();
    for call in futures::future::join_all(calls).await {
        let dids = call.unwrap().expect("every allocation succeeds");
        assert_eq!(dids.len(), 50);
        numbers.extend(dids.into_iter().map(|did| did.number));
    }
    assert_eq!(numbers.len(), 1000, "every number once");
    app.stop().await;
}

/// With no sweep, an allocation that takes an item whose hold has ended
/// records the expiry first (by no user, at its expiry), then the
/// assignment; while the hold lasts, the item is not available to others.
async fn an_allocation_records_the_ended_holds_it_takes(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.hold_sweep = std::time::Duration::ZERO;
    })
    .await;
    let api = Dids::new(&app);
    let admin = Identity::admin();
    let (acme, globex) = (organization(), organization());
    let id = create(&api, "+212522000001", "MA").await;
    let ttl = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    let held = api
        .hold_with(&admin, &id, &acme.to_string(), ttl, Default::default())
        .await
        .unwrap();
    expect_error(
        allocate(&api, &admin, request(&globex, 1)).await,
        Code::FailedPrecondition,
        "NOT_ENOUGH_AVAILABLE",
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let dids = allocate(&api, &admin, request(&globex, 1)).await.unwrap();
    assert_eq!(dids[0].id, id);
    let history = api.history(&admin, &id, 0, 0, false).await.unwrap();
    let changes = &history[0].data;
    let types: Vec<i32> = changes.iter().map(|change| change.change_type).collect();
    assert_eq!(types, [1, 7, 9, 5], "created, held, hold expired, assigned");
    let expire_time = held.hold.unwrap().expire_time;
    assert_eq!(
        (changes[2].user_id.as_ref(), changes[2].time),
        (None, expire_time)
    );
    app.stop().await;
}

/// A reseller's held allocations count against its hold limit in their own
/// transactions: sent at once, they cannot pass it together; and a retry of
/// one that succeeded answers with its DIDs even at the limit.
async fn concurrent_held_allocations_never_pass_the_hold_limit(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.max_holds_per_organization = 10;
    })
    .await;
    let api = Dids::new(&app);
    crate::helpers::seed_bulky_dids(app.channel.clone(), 40).await;
    let acme = organization();
    let buyer = Identity::reseller(acme);
    let held = |request_id: String| pb::AllocateDidsRequest {
        hold: true,
        request_id,
        ..request(&acme, 3)
    };
    let request_ids: Vec<String> = (0..6).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let answers = futures::future::join_all(
        request_ids
            .iter()
            .map(|request_id| allocate(&api, &buyer, held(request_id.clone()))),
    )
    .await;
    let mut granted = Vec::new();
    for (request_id, answer) in request_ids.iter().zip(answers) {
        match answer {
            Ok(dids) => granted.push((request_id.clone(), dids)),
            Err(status) => {
                expect_error(
                    Err::<(), _>(status),
                    Code::ResourceExhausted,
                    "HOLD_LIMIT_REACHED",
                );
            }
        }
    }
    assert_eq!(
        granted.len(),
        3,
        "3 × 3 holds fit a limit of 10; 4 × 3 do not"
    );
    let (request_id, dids) = &granted[0];
    let again = allocate(&api, &buyer, held(request_id.clone()))
        .await
        .unwrap();
    assert_eq!(again, *dids, "a retry answers, however full the limit");
    app.stop().await;
}

crate::for_every_engine!(
    allocation_takes_the_lowest_available_numbers_all_or_none,
    concurrent_held_allocations_never_pass_the_hold_limit,
    an_allocation_records_the_ended_holds_it_takes,
    concurrent_allocations_never_share_a_number,
);
