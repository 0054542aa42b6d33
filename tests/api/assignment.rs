//! The shared pool and assignment to one organization.

use crate::assertions::{expect_error, expect_invalid, is_after};
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::Resource;
use tonic::Code;

pub async fn assign_gives_an_item_to_one_organization<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    let acme = organization().to_string();
    let admin = Identity::admin();

    let assigned = api.assign(&admin, &item.id, &acme).await.unwrap();

    assert!(!assigned.is_shared);
    assert_eq!(assigned.organization_id.as_deref(), Some(acme.as_str()));
    assert!(is_after(&assigned.updated_at, &item.updated_at));
    assert_eq!(assigned.updated_by, Some(admin.user_id.to_string()));
    assert_eq!(api.get(&admin, &item.id).await.unwrap(), assigned);
}

pub async fn assigning_again_to_the_same_organization_changes_nothing<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    let acme = organization().to_string();
    let first = api
        .assign(&Identity::admin(), &item.id, &acme)
        .await
        .unwrap();

    let again = api
        .assign(&Identity::admin(), &item.id, &acme)
        .await
        .unwrap();

    assert_eq!(again, first);
}

pub async fn an_item_held_by_another_organization_must_be_unassigned_first<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api.seed(1, "MA").await;
    let held = api
        .assign(&admin, &item.id, &organization().to_string())
        .await
        .unwrap();

    let other = organization().to_string();
    expect_error(
        api.assign(&admin, &item.id, &other).await,
        Code::FailedPrecondition,
        "ALREADY_ASSIGNED",
    );
    assert_eq!(api.get(&admin, &item.id).await.unwrap(), held);

    api.unassign(&admin, &item.id).await.unwrap();
    let reassigned = api.assign(&admin, &item.id, &other).await.unwrap();
    assert_eq!(reassigned.organization_id, Some(other));
}

pub async fn unassign_returns_an_item_to_the_shared_pool<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api.seed(1, "MA").await;
    api.assign(&admin, &item.id, &organization().to_string())
        .await
        .unwrap();

    let unassigned = api.unassign(&admin, &item.id).await.unwrap();

    assert!(unassigned.is_shared);
    assert_eq!(unassigned.organization_id, None);
    let again = api.unassign(&admin, &item.id).await.unwrap();
    assert_eq!(
        again, unassigned,
        "unassigning a shared item changes nothing"
    );
}

pub async fn assign_refuses_malformed_ids<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;
    let admin = Identity::admin();

    expect_invalid(
        api.assign(&admin, &item.id, "acme").await,
        "organization_id",
    );
    // The nil UUID names no organization (it is the shared pool's holder in
    // the kept counts).
    expect_invalid(
        api.assign(&admin, &item.id, "00000000-0000-0000-0000-000000000000")
            .await,
        "organization_id",
    );
    expect_invalid(
        api.assign(&admin, "42", &organization().to_string()).await,
        "id",
    );
    expect_invalid(api.unassign(&admin, "").await, "id");
}

crate::for_both_resources!(
    assign_gives_an_item_to_one_organization,
    assigning_again_to_the_same_organization_changes_nothing,
    an_item_held_by_another_organization_must_be_unassigned_first,
    unassign_returns_an_item_to_the_shared_pool,
    assign_refuses_malformed_ids,
);
