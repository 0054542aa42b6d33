//! What each role may see and do.

use crate::assertions::expect_error;
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{Changes, ListParams, Record, Resource};
use tonic::Code;

/// One item in the shared pool, one held by `own`, one by another
/// organization, and one deleted.
struct Inventory {
    shared: Record,
    owned: Record,
    foreign: Record,
    deleted: Record,
}

async fn inventory<R: Resource>(api: &R, own: &str) -> Inventory {
    let admin = Identity::admin();
    let shared = api.seed(1, "MA").await;
    let owned = api.seed(2, "MA").await;
    let owned = api.assign(&admin, &owned.id, own).await.unwrap();
    let foreign = api.seed(3, "MA").await;
    let foreign = api
        .assign(&admin, &foreign.id, &organization().to_string())
        .await
        .unwrap();
    let deleted = api.seed(4, "MA").await;
    let deleted = api.delete(&admin, &deleted.id).await.unwrap();
    Inventory {
        shared,
        owned,
        foreign,
        deleted,
    }
}

fn ids(records: &[Record]) -> Vec<&str> {
    let mut ids: Vec<_> = records.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids
}

pub async fn only_admins_write<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    let org = organization().to_string();
    for caller in [Identity::accountant(), Identity::reseller(organization())] {
        let denied = |result| {
            expect_error(result, Code::PermissionDenied, "ROLE_FORBIDDEN");
        };
        denied(api.create(&caller, &R::value(2), "MA", None, 0).await);
        // Even invalid input is refused for the role first.
        denied(api.create(&caller, "", "XX", None, 0).await);
        denied(
            api.update(
                &caller,
                &item.id,
                Changes {
                    status: Some(2),
                    ..Changes::default()
                },
            )
            .await,
        );
        denied(api.delete(&caller, &item.id).await);
        denied(api.assign(&caller, &item.id, &org).await);
        denied(api.unassign(&caller, &item.id).await);
    }
    let unchanged = api.get(&Identity::admin(), &item.id).await.unwrap();
    assert_eq!(unchanged, item);
    let pages = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();
    assert_eq!(pages[0].meta.total, 1);
}

pub async fn a_reseller_gets_shared_and_own_items_without_staff_ids<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;
    let reseller = Identity::reseller(own);

    for expected in [&items.shared, &items.owned] {
        let seen = api.get(&reseller, &expected.id).await.unwrap();
        assert_eq!(
            (seen.created_by.as_ref(), seen.updated_by.as_ref()),
            (None, None)
        );
        let staff_view = Record {
            created_by: None,
            updated_by: None,
            deleted_by: None,
            ..expected.clone()
        };
        assert_eq!(seen, staff_view);
    }
    for hidden in [&items.foreign, &items.deleted] {
        expect_error(
            api.get(&reseller, &hidden.id).await,
            Code::NotFound,
            R::NOT_FOUND_REASON,
        );
    }
}

pub async fn staff_read_everything_including_deleted_items<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let items = inventory(&api, &organization().to_string()).await;
    let accountant = Identity::accountant();

    for item in [&items.shared, &items.owned, &items.foreign, &items.deleted] {
        assert_eq!(&api.get(&accountant, &item.id).await.unwrap(), item);
    }
    let live = api.list(&accountant, ListParams::default()).await.unwrap();
    assert_eq!(
        ids(&live[0].data),
        ids(&[
            items.shared.clone(),
            items.owned.clone(),
            items.foreign.clone()
        ])
    );
    let all = api
        .list(
            &accountant,
            ListParams {
                show_deleted: true,
                ..ListParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all[0].meta.total, 4);
}

pub async fn a_reseller_lists_the_shared_pool_and_its_own_items_only<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;
    let reseller = Identity::reseller(own);

    let pages = api.list(&reseller, ListParams::default()).await.unwrap();
    assert_eq!(pages[0].meta.total, 2);
    assert_eq!(
        ids(&pages[0].data),
        ids(&[items.shared.clone(), items.owned.clone()])
    );
    assert!(
        pages[0]
            .data
            .iter()
            .all(|r| r.created_by.is_none() && r.updated_by.is_none())
    );

    let mine = ListParams {
        organization_id: Some(own.to_string()),
        ..ListParams::default()
    };
    let pages = api.list(&reseller, mine).await.unwrap();
    assert_eq!(ids(&pages[0].data), ids(std::slice::from_ref(&items.owned)));
}

pub async fn a_reseller_may_not_name_another_organization_or_see_deleted_items<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let reseller = Identity::reseller(organization());

    let other = ListParams {
        organization_id: Some(organization().to_string()),
        ..ListParams::default()
    };
    expect_error(
        api.list(&reseller, other).await,
        Code::PermissionDenied,
        "ORGANIZATION_FORBIDDEN",
    );
    let deleted = ListParams {
        show_deleted: true,
        ..ListParams::default()
    };
    expect_error(
        api.list(&reseller, deleted).await,
        Code::PermissionDenied,
        "ROLE_FORBIDDEN",
    );
}

crate::for_both_resources!(
    only_admins_write,
    a_reseller_gets_shared_and_own_items_without_staff_ids,
    staff_read_everything_including_deleted_items,
    a_reseller_lists_the_shared_pool_and_its_own_items_only,
    a_reseller_may_not_name_another_organization_or_see_deleted_items,
    a_resellers_writes_tell_nothing_of_items_it_cannot_see,
    an_unreadable_etag_is_a_mismatch,
);

/// The answer of one write a reseller sends, as far as a client can tell
/// answers apart: code, message and every detail.
fn answer(result: Result<Record, tonic::Status>) -> (Code, String, Vec<u8>) {
    let status = result.expect_err("a reseller's write on an item it cannot see fails");
    (
        status.code(),
        status.message().to_owned(),
        status.details().to_vec(),
    )
}

/// Every write a reseller can send, on another organization's item, a
/// deleted one and an id that never existed, with every kind of etag
/// (none, stale, unreadable, the item's own current one) and with or
/// without a `request_id`: the three answers are the same, so that
/// nothing tells the reseller which of them exists. Exhaustive over the
/// cases rather than sampled: they are few.
pub async fn a_resellers_writes_tell_nothing_of_items_it_cannot_see<R: Resource>(app: &TestApp) {
    use crate::resources::WriteOptions;
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let reseller = Identity::reseller(own);
    let org = own.to_string();
    let rpcs = [
        "update", "delete", "assign", "unassign", "hold", "release", "undelete",
    ];
    let etags = [
        "",
        "0000000000000000",
        "W/\"not-ours\"",
        &items.foreign.etag,
    ];
    for rpc in rpcs {
        for etag in etags {
            for with_request_id in [false, true] {
                let mut answers = Vec::new();
                for id in [&items.foreign.id, &items.deleted.id, &unknown] {
                    let options = WriteOptions {
                        etag: etag.to_owned(),
                        request_id: if with_request_id {
                            uuid::Uuid::now_v7().to_string()
                        } else {
                            String::new()
                        },
                    };
                    let result = match rpc {
                        "update" => {
                            let changes = Changes {
                                status: Some(2),
                                ..Changes::default()
                            };
                            api.update_with(&reseller, id, changes, options).await
                        }
                        "delete" => api.delete_with(&reseller, id, options).await,
                        "assign" => api.assign_with(&reseller, id, &org, options).await,
                        "unassign" => api.unassign_with(&reseller, id, options).await,
                        "hold" => api.hold_with(&reseller, id, &org, None, options).await,
                        "release" => api.release_with(&reseller, id, options).await,
                        _ => api.undelete_with(&reseller, id, options).await,
                    };
                    answers.push(answer(result));
                }
                let case = format!("{rpc} etag={etag:?} request_id={with_request_id}");
                assert_eq!(answers[0], answers[2], "foreign vs unknown: {case}");
                assert_eq!(answers[1], answers[2], "deleted vs unknown: {case}");
            }
        }
    }
    // Nothing was written: the foreign item is as it was.
    let foreign = api
        .get(&Identity::admin(), &items.foreign.id)
        .await
        .unwrap();
    assert_eq!(foreign, items.foreign);
}

/// An etag the service never made is FAILED_PRECONDITION, ETAG_MISMATCH,
/// like a stale one: etags are opaque to clients.
pub async fn an_unreadable_etag_is_a_mismatch<R: Resource>(app: &TestApp) {
    use crate::resources::WriteOptions;
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    for etag in ["W/\"x\"", "0", "zzzzzzzzzzzzzzzz", "0000000000000000"] {
        let result = api
            .delete_with(&Identity::admin(), &item.id, WriteOptions::etag(etag))
            .await;
        expect_error(result, Code::FailedPrecondition, "ETAG_MISMATCH");
    }
    let unchanged = api.get(&Identity::admin(), &item.id).await.unwrap();
    assert_eq!(unchanged, item);
}
