//! Page tokens (AIP-158): each page's `next_page_token` gives the page after
//! it, by keyset, with the same items, order and meta as paging by number.

use crate::assertions::expect_error;
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{AvailableParams, ListParams, Listed, Record, Resource};
use numbering::proto::v1::SortOrder;
use tonic::Code;

const ASC: i32 = SortOrder::Asc as i32;
const BY_COUNTRY: i32 = 2;

/// Every page of a list, each asked for with the previous page's token.
async fn walk<R: Resource>(api: &R, who: &Identity, params: ListParams) -> Vec<Listed<Record>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let mut page = api
            .list(
                who,
                ListParams {
                    page_token: token.clone(),
                    ..params.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 1, "one page per call");
        let page = page.remove(0);
        token = page.next_page_token.clone();
        pages.push(page);
        if token.is_empty() {
            return pages;
        }
        assert!(pages.len() < 100, "the tokens never end");
    }
}

pub async fn tokens_walk_the_list_as_page_numbers_do<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    // Several items per country, so that the id must break ties.
    for n in 1..=11 {
        api.seed(n, ["MA", "FR", "US"][n as usize % 3]).await;
    }
    for (sort_by, sort_order) in [(0, 0), (BY_COUNTRY, ASC), (BY_COUNTRY, 0)] {
        let params = ListParams {
            limit: 3,
            sort_by,
            sort_order,
            ..ListParams::default()
        };

        let by_token = walk(&api, &admin, params.clone()).await;
        let by_number = api
            .list(
                &admin,
                ListParams {
                    all_pages: true,
                    ..params.clone()
                },
            )
            .await
            .unwrap();

        let ids = |pages: &[Listed<Record>]| -> Vec<Vec<String>> {
            pages
                .iter()
                .map(|p| p.data.iter().map(|r| r.id.clone()).collect())
                .collect()
        };
        assert_eq!(
            ids(&by_token),
            ids(&by_number),
            "sort {sort_by}/{sort_order}"
        );
        let metas =
            |pages: &[Listed<Record>]| pages.iter().map(|p| p.meta.clone()).collect::<Vec<_>>();
        assert_eq!(metas(&by_token), metas(&by_number));
        assert_eq!(by_token.len(), 4);
        // Streaming gives the same tokens, and the last page none.
        let tokens: Vec<_> = by_number
            .iter()
            .map(|p| !p.next_page_token.is_empty())
            .collect();
        assert_eq!(tokens, [true, true, true, false]);
    }
}

pub async fn a_token_streams_every_page_after_it<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    for n in 1..=7 {
        api.seed(n, "MA").await;
    }
    let params = ListParams {
        limit: 2,
        ..ListParams::default()
    };
    let first = api.list(&admin, params.clone()).await.unwrap();

    let rest = api
        .list(
            &admin,
            ListParams {
                all_pages: true,
                page_token: first[0].next_page_token.clone(),
                ..params
            },
        )
        .await
        .unwrap();

    let pages: Vec<_> = rest.iter().map(|p| p.meta.page).collect();
    assert_eq!(pages, [2, 3, 4]);
    let seen: usize = first.iter().chain(&rest).map(|p| p.data.len()).sum();
    assert_eq!(seen, 7);
}

pub async fn a_token_with_other_filters_sort_or_limit_is_refused<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    for n in 1..=5 {
        api.seed(n, "MA").await;
    }
    let params = ListParams {
        limit: 2,
        ..ListParams::default()
    };
    let token = api.list(&admin, params.clone()).await.unwrap()[0]
        .next_page_token
        .clone();
    assert!(!token.is_empty());

    let others = [
        ListParams {
            limit: 3,
            ..params.clone()
        },
        ListParams {
            sort_by: BY_COUNTRY,
            ..params.clone()
        },
        ListParams {
            countries: vec!["MA".into()],
            ..params.clone()
        },
        ListParams {
            search: "5".into(),
            ..params.clone()
        },
    ];
    for other in others {
        let refused = api
            .list(
                &admin,
                ListParams {
                    page_token: token.clone(),
                    ..other
                },
            )
            .await;
        expect_error(refused, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    }
    // The same token from a caller who sees other items.
    let reseller = Identity::reseller(organization());
    let refused = api
        .list(
            &reseller,
            ListParams {
                page_token: token.clone(),
                ..params.clone()
            },
        )
        .await;
    expect_error(refused, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    for garbage in ["x", "AAAA", &token[..token.len() / 2], "not a token!"] {
        let refused = api
            .list(
                &admin,
                ListParams {
                    page_token: garbage.into(),
                    ..params.clone()
                },
            )
            .await;
        expect_error(refused, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    }
}

pub async fn available_lists_take_tokens_too<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let reseller = Identity::reseller(organization());
    for n in 1..=5 {
        api.seed(n, "MA").await;
    }
    let params = AvailableParams {
        limit: 2,
        sort_order: ASC,
        ..AvailableParams::default()
    };
    let mut values = Vec::new();
    let mut token = String::new();
    loop {
        let page = api
            .list_available(
                &reseller,
                AvailableParams {
                    page_token: token,
                    ..params.clone()
                },
            )
            .await
            .unwrap()
            .remove(0);
        values.extend(page.data.iter().map(|a| a.value.clone()));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }

    let mut expected: Vec<_> = (1..=5).map(R::value).collect();
    expected.sort();
    assert_eq!(values, expected);
}

crate::for_both_resources!(
    tokens_walk_the_list_as_page_numbers_do,
    a_token_streams_every_page_after_it,
    a_token_with_other_filters_sort_or_limit_is_refused,
    available_lists_take_tokens_too,
);
