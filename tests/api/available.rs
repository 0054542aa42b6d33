//! What an organization may use: active, live, shared or its own.

use crate::assertions::{expect_error, expect_invalid};
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{Available, AvailableParams, Record, Resource};
use numbering::proto::v1::{SortOrder, Status as WireStatus};
use tonic::Code;

struct Inventory {
    shared: Record,
    owned: Record,
    foreign: Record,
    inactive: Record,
    deleted: Record,
}

async fn inventory<R: Resource>(api: &R, own: &str) -> Inventory {
    let admin = Identity::admin();
    let shared = api.seed(1, "MA").await;
    let owned = api
        .assign(&admin, &api.seed(2, "MA").await.id, own)
        .await
        .unwrap();
    let foreign = api
        .assign(
            &admin,
            &api.seed(3, "MA").await.id,
            &organization().to_string(),
        )
        .await
        .unwrap();
    let inactive = api
        .create(
            &admin,
            &R::value(4),
            "MA",
            None,
            WireStatus::Inactive as i32,
        )
        .await
        .unwrap();
    let deleted = api
        .delete(&admin, &api.seed(5, "MA").await.id)
        .await
        .unwrap();
    Inventory {
        shared,
        owned,
        foreign,
        inactive,
        deleted,
    }
}

fn available(record: &Record) -> Available {
    Available {
        id: record.id.clone(),
        value: record.value.clone(),
        country: record.country.clone(),
        status: record.status,
        is_shared: record.is_shared,
    }
}

pub async fn a_reseller_sees_active_shared_and_own_items_ordered_by_value<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;

    let ascending = AvailableParams {
        sort_order: SortOrder::Asc as i32,
        ..AvailableParams::default()
    };
    let pages = api
        .list_available(&Identity::reseller(own), ascending)
        .await
        .unwrap();

    assert_eq!(pages.len(), 1);
    assert_eq!(
        pages[0].data,
        [available(&items.shared), available(&items.owned)]
    );
    assert_eq!(pages[0].meta.total, 2);
    let descending = api
        .list_available(&Identity::reseller(own), AvailableParams::default())
        .await
        .unwrap();
    assert_eq!(
        descending[0].data,
        [available(&items.owned), available(&items.shared)]
    );
}

pub async fn staff_list_what_a_named_organization_may_use<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;
    let ascending = |organization_id: Option<String>| AvailableParams {
        sort_order: SortOrder::Asc as i32,
        organization_id,
        ..AvailableParams::default()
    };

    let for_own = api
        .list_available(&Identity::accountant(), ascending(Some(own.to_string())))
        .await
        .unwrap();
    assert_eq!(
        for_own[0].data,
        [available(&items.shared), available(&items.owned)]
    );
    let shared_only = api
        .list_available(&Identity::admin(), ascending(None))
        .await
        .unwrap();
    assert_eq!(shared_only[0].data, [available(&items.shared)]);
}

pub async fn a_reseller_may_not_ask_for_another_organization<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let reseller = Identity::reseller(organization());
    let item = api.seed(1, "MA").await;
    let other = Some(organization().to_string());

    let listed = api
        .list_available(
            &reseller,
            AvailableParams {
                organization_id: other.clone(),
                ..AvailableParams::default()
            },
        )
        .await;
    expect_error(listed, Code::PermissionDenied, "ORGANIZATION_FORBIDDEN");
    let got = api
        .get_available(&reseller, &item.id, other.as_deref())
        .await;
    expect_error(got, Code::PermissionDenied, "ORGANIZATION_FORBIDDEN");
}

pub async fn available_search_looks_at_the_value_only<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api
        .create(&admin, &R::value(1), "MA", Some("findme"), 0)
        .await
        .unwrap();
    api.seed(2, "MA").await;

    let by_value = AvailableParams {
        search: item.value[..item.value.len() - 1].to_lowercase(),
        limit: 1,
        ..AvailableParams::default()
    };
    let found = api.list_available(&admin, by_value).await.unwrap();
    assert!(found[0].data.iter().any(|a| a.id == item.id) || found[0].meta.total == 2);
    let by_description = AvailableParams {
        search: "findme".into(),
        ..AvailableParams::default()
    };
    assert_eq!(
        api.list_available(&admin, by_description).await.unwrap()[0]
            .meta
            .total,
        0
    );
}

pub async fn available_lists_page_and_stream_like_the_others<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    for n in 1..=5 {
        api.seed(n, "MA").await;
    }
    let params = AvailableParams {
        page: 2,
        limit: 2,
        all_pages: true,
        sort_order: SortOrder::Asc as i32,
        ..AvailableParams::default()
    };

    let pages = api
        .list_available(&Identity::admin(), params)
        .await
        .unwrap();

    let streamed: Vec<_> = pages
        .iter()
        .flat_map(|p| p.data.iter().map(|a| a.value.clone()))
        .collect();
    assert_eq!(streamed, (3..=5).map(R::value).collect::<Vec<_>>());
    assert_eq!(
        pages.iter().map(|p| p.meta.page).collect::<Vec<_>>(),
        [2, 3]
    );
    let refused = api
        .list_available(
            &Identity::admin(),
            AvailableParams {
                limit: 500,
                ..AvailableParams::default()
            },
        )
        .await;
    expect_invalid(refused, "limit");
}

pub async fn get_available_finds_only_what_the_organization_may_use<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let own = organization();
    let items = inventory(&api, &own.to_string()).await;
    let reseller = Identity::reseller(own);

    for usable in [&items.shared, &items.owned] {
        assert_eq!(
            api.get_available(&reseller, &usable.id, None)
                .await
                .unwrap(),
            available(usable)
        );
    }
    for unusable in [&items.foreign, &items.inactive, &items.deleted] {
        expect_error(
            api.get_available(&reseller, &unusable.id, None).await,
            Code::NotFound,
            R::NOT_FOUND_REASON,
        );
    }
    let for_own = api
        .get_available(&Identity::admin(), &items.owned.id, Some(&own.to_string()))
        .await
        .unwrap();
    assert_eq!(for_own, available(&items.owned));
    expect_invalid(api.get_available(&reseller, "nope", None).await, "id");
}

crate::for_both_resources!(
    a_reseller_sees_active_shared_and_own_items_ordered_by_value,
    staff_list_what_a_named_organization_may_use,
    a_reseller_may_not_ask_for_another_organization,
    available_search_looks_at_the_value_only,
    available_lists_page_and_stream_like_the_others,
    get_available_finds_only_what_the_organization_may_use,
);
