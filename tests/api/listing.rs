//! Lists: paging, streaming every page, ordering, search and filters.

use crate::assertions::expect_invalid;
use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{Changes, ListParams, Record, Resource};
use numbering::proto::v1::{PaginationMeta, SortOrder, Status as WireStatus};

const ASC: i32 = SortOrder::Asc as i32;
const BY_VALUE: i32 = 1;
const BY_COUNTRY: i32 = 2;
const BY_STATUS: i32 = 3;

fn meta(
    page: u32,
    limit: u32,
    total: u32,
    total_pages: u32,
    has_next_page: bool,
    has_previous_page: bool,
) -> PaginationMeta {
    PaginationMeta {
        page,
        limit,
        total,
        total_pages,
        has_next_page,
        has_previous_page,
        next_page_token: String::new(),
        revision: 0,
    }
}

fn values(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.value.clone()).collect()
}

async fn seed_many<R: Resource>(api: &R, count: u32) -> Vec<Record> {
    let mut records = Vec::new();
    for n in 1..=count {
        records.push(api.seed(n, "MA").await);
    }
    records
}

fn by_value(page: u32, limit: u32) -> ListParams {
    ListParams {
        page,
        limit,
        sort_by: BY_VALUE,
        sort_order: ASC,
        ..ListParams::default()
    }
}

pub async fn one_page_carries_its_slice_and_meta<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let all = seed_many(&api, 5).await;
    let admin = Identity::admin();

    let first = api.list(&admin, by_value(1, 2)).await.unwrap();
    let last = api.list(&admin, by_value(3, 2)).await.unwrap();
    let beyond = api.list(&admin, by_value(4, 2)).await.unwrap();

    assert_eq!(
        first.len(),
        1,
        "without all_pages the stream carries one page"
    );
    assert_eq!(values(&first[0].data), values(&all[0..2]));
    assert_eq!(first[0].meta, meta(1, 2, 5, 3, true, false));
    assert_eq!(values(&last[0].data), values(&all[4..5]));
    assert_eq!(last[0].meta, meta(3, 2, 5, 3, false, true));
    assert!(beyond[0].data.is_empty());
    assert_eq!(beyond[0].meta, meta(4, 2, 5, 3, false, true));
}

pub async fn defaults_are_page_one_limit_twenty_newest_first<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let all = seed_many(&api, 22).await;

    let pages = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();

    assert_eq!(pages[0].meta, meta(1, 20, 22, 2, true, false));
    let mut newest_first = all.clone();
    newest_first.reverse();
    assert_eq!(values(&pages[0].data), values(&newest_first[..20]));
}

pub async fn all_pages_streams_every_page_from_the_requested_one<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let all = seed_many(&api, 7).await;

    let pages = api
        .list(
            &Identity::admin(),
            ListParams {
                all_pages: true,
                ..by_value(2, 2)
            },
        )
        .await
        .unwrap();

    let metas: Vec<_> = pages.iter().map(|p| p.meta.clone()).collect();
    assert_eq!(
        metas,
        [
            meta(2, 2, 7, 4, true, true),
            meta(3, 2, 7, 4, true, true),
            meta(4, 2, 7, 4, false, true)
        ]
    );
    let streamed: Vec<_> = pages.iter().flat_map(|p| values(&p.data)).collect();
    assert_eq!(streamed, values(&all[2..]));
}

pub async fn all_pages_keeps_the_order_across_pages_in_both_directions<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    // Several items per country so that the id must break ties.
    for n in 1..=9 {
        api.seed(n, ["MA", "FR", "US"][n as usize % 3]).await;
    }
    for sort_order in [ASC, SortOrder::Desc as i32] {
        for sort_by in [0, BY_VALUE, BY_COUNTRY, BY_STATUS, 4] {
            let one_page = ListParams {
                limit: 100,
                sort_by,
                sort_order,
                ..ListParams::default()
            };
            let expected = api
                .list(&admin, one_page.clone())
                .await
                .unwrap()
                .remove(0)
                .data;
            let paged = ListParams {
                limit: 2,
                all_pages: true,
                ..one_page
            };
            let pages = api.list(&admin, paged).await.unwrap();
            let streamed: Vec<_> = pages.into_iter().flat_map(|p| p.data).collect();
            assert_eq!(
                values(&streamed),
                values(&expected),
                "sort_by {sort_by}, order {sort_order}"
            );
        }
    }
    let by_country = api
        .list(
            &admin,
            ListParams {
                limit: 100,
                sort_by: BY_COUNTRY,
                sort_order: ASC,
                ..ListParams::default()
            },
        )
        .await
        .unwrap();
    let countries: Vec<_> = by_country[0]
        .data
        .iter()
        .map(|r| r.country.as_str())
        .collect();
    assert_eq!(
        countries,
        ["FR", "FR", "FR", "MA", "MA", "MA", "US", "US", "US"]
    );
}

pub async fn an_empty_result_is_one_empty_page<R: Resource>(app: &TestApp) {
    let api = R::new(app);

    for all_pages in [false, true] {
        let pages = api
            .list(
                &Identity::admin(),
                ListParams {
                    all_pages,
                    ..ListParams::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(pages.len(), 1);
        assert!(pages[0].data.is_empty());
        assert_eq!(pages[0].meta, meta(1, 20, 0, 0, false, false));
    }
}

pub async fn all_pages_reads_one_consistent_view<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let all = seed_many(&api, 6).await;
    let mut stream = api
        .list_stream(
            &admin,
            ListParams {
                all_pages: true,
                ..by_value(1, 2)
            },
        )
        .await
        .unwrap();
    let first = stream.next_page().await.unwrap().unwrap();

    // Writes after the stream began are not seen by it.
    api.seed(0, "MA").await;
    api.delete(&admin, &all[3].id).await.unwrap();
    api.update(
        &admin,
        &all[5].id,
        Changes {
            description: Some("changed".into()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let mut pages = vec![first];
    while let Some(page) = stream.next_page().await {
        pages.push(page.unwrap());
    }
    assert!(pages.iter().all(|p| p.meta.total == 6));
    let streamed: Vec<_> = pages.into_iter().flat_map(|p| p.data).collect();
    assert_eq!(streamed, all);
}

pub async fn search_is_a_case_insensitive_substring_of_value_or_description<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let admin = Identity::admin();
    let by_value = api.seed(1, "MA").await;
    let by_description = api
        .create(&admin, &R::value(2), "MA", Some("Main Office LINE"), 0)
        .await
        .unwrap();
    api.create(&admin, &R::value(3), "MA", Some("backup"), 0)
        .await
        .unwrap();

    let found = |search: String| {
        let api = api.clone();
        let admin = admin.clone();
        async move {
            let pages = api
                .list(
                    &admin,
                    ListParams {
                        search,
                        sort_by: BY_VALUE,
                        sort_order: ASC,
                        ..ListParams::default()
                    },
                )
                .await
                .unwrap();
            values(&pages[0].data)
        }
    };
    let fragment = by_value.value[2..7].to_lowercase();
    assert!(found(fragment).await.contains(&by_value.value));
    assert_eq!(found("office line".into()).await, [by_description.value]);
    assert_eq!(found("nothing like it".into()).await, Vec::<String>::new());
}

/// The values an admin's search finds, on the first page.
async fn found_by<R: Resource>(api: &R, search: &str) -> Vec<String> {
    let params = ListParams {
        search: search.into(),
        ..ListParams::default()
    };
    let pages = api.list(&Identity::admin(), params).await.unwrap();
    values(&pages[0].data)
}

/// Search folds case and accents beyond ASCII alike on every engine
/// (SQLite's own LOWER and LIKE fold ASCII only).
pub async fn search_folds_unicode_case_and_accents<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let school = api
        .create(&admin, &R::value(1), "MA", Some("ÉCOLE centrale"), 0)
        .await
        .unwrap();
    let hub = api
        .create(&admin, &R::value(2), "TR", Some("İSTANBUL hub"), 0)
        .await
        .unwrap();

    for (search, expected) in [
        ("école", &school.value),
        ("ecole", &school.value),
        ("ÉCOLE", &school.value),
        ("istanbul", &hub.value),
        ("İstanbul", &hub.value),
    ] {
        assert_eq!(
            found_by(&api, search).await,
            [expected.as_str()],
            "search {search:?}"
        );
    }
}

pub async fn search_wildcards_match_themselves<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let percent = api
        .create(&admin, &R::value(1), "MA", Some("100% uptime"), 0)
        .await
        .unwrap();
    let underscore = api
        .create(&admin, &R::value(2), "MA", Some("snake_case"), 0)
        .await
        .unwrap();
    let backslash = api
        .create(&admin, &R::value(3), "MA", Some(r"C:\path"), 0)
        .await
        .unwrap();
    let bang = api
        .create(&admin, &R::value(4), "MA", Some("hello!"), 0)
        .await
        .unwrap();
    api.create(
        &admin,
        &R::value(5),
        "MA",
        Some("1000 uptime, snakeXcase, C:path, hello"),
        0,
    )
    .await
    .unwrap();

    for (search, expected) in [
        ("0%", &percent),
        ("e_c", &underscore),
        (r":\", &backslash),
        ("o!", &bang),
    ] {
        assert_eq!(
            found_by(&api, search).await,
            [expected.value.as_str()],
            "search {search:?}"
        );
    }
}

pub async fn filters_combine_and_repeated_filters_match_any_value<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let acme = organization().to_string();
    let ma = api.seed(1, "MA").await;
    let fr = api.seed(2, "FR").await;
    let us = api
        .create(
            &admin,
            &R::value(3),
            "US",
            None,
            WireStatus::Inactive as i32,
        )
        .await
        .unwrap();
    let assigned = api
        .assign(&admin, &api.seed(4, "MA").await.id, &acme)
        .await
        .unwrap();

    let list = |params: ListParams| {
        let (api, admin) = (api.clone(), admin.clone());
        async move {
            let pages = api
                .list(
                    &admin,
                    ListParams {
                        sort_by: BY_VALUE,
                        sort_order: ASC,
                        ..params
                    },
                )
                .await
                .unwrap();
            values(&pages[0].data)
        }
    };
    let countries = vec!["ma".to_string(), "US".to_string()];
    assert_eq!(
        list(ListParams {
            countries,
            ..Default::default()
        })
        .await,
        values(&[ma.clone(), us.clone(), assigned.clone()])
    );
    let spelled = vec![R::same_value_spelled_otherwise(&fr.value), us.value.clone()];
    assert_eq!(
        list(ListParams {
            values: spelled,
            ..Default::default()
        })
        .await,
        values(&[fr.clone(), us.clone()])
    );
    assert_eq!(
        list(ListParams {
            status: Some(WireStatus::Inactive as i32),
            ..Default::default()
        })
        .await,
        values(std::slice::from_ref(&us))
    );
    assert_eq!(
        list(ListParams {
            is_shared: Some(false),
            ..Default::default()
        })
        .await,
        values(std::slice::from_ref(&assigned))
    );
    assert_eq!(
        list(ListParams {
            is_shared: Some(true),
            ..Default::default()
        })
        .await,
        values(&[ma.clone(), fr.clone(), us.clone()])
    );
    assert_eq!(
        list(ListParams {
            organization_id: Some(acme),
            ..Default::default()
        })
        .await,
        values(std::slice::from_ref(&assigned))
    );
    let both = ListParams {
        countries: vec!["MA".into()],
        is_shared: Some(true),
        ..Default::default()
    };
    assert_eq!(list(both).await, values(&[ma]));
}

pub async fn list_refuses_bad_paging_and_filters_by_name<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let none = ListParams::default;
    let cases = [
        (
            ListParams {
                limit: 101,
                ..none()
            },
            "limit".to_owned(),
        ),
        (
            ListParams {
                countries: vec!["MA".into(), "XX".into()],
                ..none()
            },
            "countries[1]".into(),
        ),
        (
            ListParams {
                countries: vec!["MA".into(); 101],
                ..none()
            },
            "countries".into(),
        ),
        (
            ListParams {
                values: vec![R::invalid_values()[1].clone()],
                ..none()
            },
            format!("{}[0]", R::VALUES_FIELD),
        ),
        (
            ListParams {
                values: vec![R::value(1); 101],
                ..none()
            },
            R::VALUES_FIELD.into(),
        ),
        (
            ListParams {
                organization_id: Some("acme".into()),
                ..none()
            },
            "organization_id".into(),
        ),
        (
            ListParams {
                status: Some(0),
                ..none()
            },
            "status".into(),
        ),
        (
            ListParams {
                sort_by: 9,
                ..none()
            },
            "sort_by".into(),
        ),
        (
            ListParams {
                sort_order: 9,
                ..none()
            },
            "sort_order".into(),
        ),
        (
            ListParams {
                search: "x".repeat(501),
                ..none()
            },
            "search".into(),
        ),
        (
            ListParams {
                search: "a\0b".into(),
                ..none()
            },
            "search".into(),
        ),
    ];
    for (params, field) in cases {
        expect_invalid(api.list(&admin, params).await, &field);
    }

    let limit_100 = api
        .list(
            &admin,
            ListParams {
                limit: 100,
                ..none()
            },
        )
        .await
        .unwrap();
    assert_eq!(limit_100[0].meta.limit, 100);
}

pub async fn a_client_walking_away_mid_stream_ends_the_read<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    seed_many(&api, 3).await;
    let admin = Identity::admin();
    let mut stream = api
        .list_stream(
            &admin,
            ListParams {
                all_pages: true,
                ..by_value(1, 1)
            },
        )
        .await
        .unwrap();
    stream.next_page().await.unwrap().unwrap();

    drop(stream);

    app.wait_for_no_open_transactions().await;
    let pages = api
        .list(
            &admin,
            ListParams {
                all_pages: true,
                ..by_value(1, 1)
            },
        )
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
}

crate::for_both_resources!(
    one_page_carries_its_slice_and_meta,
    defaults_are_page_one_limit_twenty_newest_first,
    all_pages_streams_every_page_from_the_requested_one,
    all_pages_keeps_the_order_across_pages_in_both_directions,
    an_empty_result_is_one_empty_page,
    all_pages_reads_one_consistent_view,
    search_is_a_case_insensitive_substring_of_value_or_description,
    search_wildcards_match_themselves,
    search_folds_unicode_case_and_accents,
    filters_combine_and_repeated_filters_match_any_value,
    list_refuses_bad_paging_and_filters_by_name,
    a_client_walking_away_mid_stream_ends_the_read,
);

/// A stream longer than one batch of reads (a thousand rows) goes on from
/// where the batch ended: every item once, in order, with the page count
/// right.
async fn a_stream_longer_than_one_read_batch_carries_every_item_once_in_order(
    engine: crate::helpers::Engine,
) {
    use crate::resources::{Dids, Samples};
    const COUNT: u32 = 1_250;
    let app = TestApp::spawn(engine).await;
    crate::helpers::seed_bulky_dids(app.channel.clone(), COUNT).await;

    let pages = Dids::new(&app)
        .list(
            &Identity::admin(),
            ListParams {
                all_pages: true,
                ..by_value(1, 100)
            },
        )
        .await
        .unwrap();

    let numbers: Vec<_> = pages.iter().flat_map(|p| values(&p.data)).collect();
    let mut expected: Vec<_> = (0..COUNT).map(Dids::value).collect();
    expected.sort();
    assert_eq!(numbers, expected);
    let numbered: Vec<_> = pages.iter().map(|p| p.meta.page).collect();
    assert_eq!(numbered, (1..=13).collect::<Vec<_>>());
    app.stop().await;
}

crate::for_every_engine!(a_stream_longer_than_one_read_batch_carries_every_item_once_in_order);
