//! Concurrent writers cannot break the invariants: the database decides.

use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{ListParams, Resource};
use tonic::Code;

const WRITERS: usize = 8;

pub async fn of_concurrent_assigns_to_different_organizations_exactly_one_wins<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let item = api.seed(1, "MA").await;

    let attempts = (0..WRITERS).map(|_| {
        let (api, id, org) = (api.clone(), item.id.clone(), organization().to_string());
        tokio::spawn(async move { (org.clone(), api.assign(&Identity::admin(), &id, &org).await) })
    });
    let outcomes = futures::future::join_all(attempts).await;

    let winners: Vec<_> = outcomes
        .iter()
        .filter_map(|o| {
            o.as_ref()
                .unwrap()
                .1
                .as_ref()
                .ok()
                .map(|_| o.as_ref().unwrap().0.clone())
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (_, outcome) in outcomes.iter().map(|o| o.as_ref().unwrap()) {
        if let Err(status) = outcome {
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        }
    }
    let stored = api.get(&Identity::admin(), &item.id).await.unwrap();
    assert_eq!(stored.organization_id.as_ref(), Some(&winners[0]));
}

pub async fn of_concurrent_creates_of_one_value_exactly_one_wins<R: Resource>(app: &TestApp) {
    let api = R::new(app);

    let attempts = (0..WRITERS).map(|i| {
        let api = api.clone();
        // Half of them spell the value the other way.
        let value = if i % 2 == 0 {
            R::value(7)
        } else {
            R::same_value_spelled_otherwise(&R::value(7))
        };
        tokio::spawn(async move { api.create(&Identity::admin(), &value, "MA", None, 0).await })
    });
    let outcomes: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    for outcome in &outcomes {
        if let Err(status) = outcome {
            assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        }
    }
    let pages = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();
    assert_eq!(pages[0].meta.total, 1);
}

/// Updates of different fields of one item, sent at once, all survive: each
/// update reads the row under a lock, so none writes back a stale copy of a
/// field another one changed. (On SQLite the write lock already serializes
/// them; PostgreSQL and MariaDB need the row lock.)
pub async fn concurrent_updates_of_different_fields_all_survive<R: Resource>(app: &TestApp) {
    use crate::resources::Changes;
    const ROUNDS: u32 = 15;
    let api = R::new(app);
    for round in 0..ROUNDS {
        let item = api.seed(round, "MA").await;
        let changes = [
            Changes {
                value: Some(R::value(1000 + round)),
                ..Changes::default()
            },
            Changes {
                country: Some("FR".into()),
                ..Changes::default()
            },
            Changes {
                description: Some(format!("round {round}")),
                ..Changes::default()
            },
            Changes {
                status: Some(2), // inactive
                ..Changes::default()
            },
        ];
        let updates = changes.into_iter().map(|change| {
            let (api, id) = (api.clone(), item.id.clone());
            tokio::spawn(async move { api.update(&Identity::admin(), &id, change).await })
        });
        for outcome in futures::future::join_all(updates).await {
            outcome.unwrap().expect("each update succeeds");
        }

        let stored = api.get(&Identity::admin(), &item.id).await.unwrap();
        let seen = (
            stored.value.as_str(),
            stored.country.as_str(),
            stored.description.as_deref(),
            stored.status,
        );
        let expected_value = R::value(1000 + round);
        let expected_description = format!("round {round}");
        assert_eq!(
            seen,
            (
                expected_value.as_str(),
                "FR",
                Some(expected_description.as_str()),
                2
            ),
            "round {round}: an update was lost"
        );
    }
}

crate::for_both_resources!(
    of_concurrent_assigns_to_different_organizations_exactly_one_wins,
    of_concurrent_creates_of_one_value_exactly_one_wins,
    concurrent_updates_of_different_fields_all_survive,
);

/// A client reading a long stream slowly holds one snapshot, not the
/// database: other calls, writes included, go on meanwhile. (sea-orm gives
/// SQLite a single connection unless told otherwise.) The stream must be
/// larger than what HTTP/2 buffers, or the server would finish it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowly_read_stream_does_not_hold_up_other_calls() {
    use crate::helpers::Engine;
    use crate::resources::Dids;
    const ITEMS: u32 = 2000;
    let mut app = TestApp::spawn(Engine::Sqlite).await;
    app.channel = crate::helpers::narrow_channel(app.address);
    crate::helpers::seed_bulky_dids(app.channel.clone(), ITEMS).await;
    let api = Dids::new(&app);
    let every_page = ListParams {
        limit: 100,
        all_pages: true,
        ..ListParams::default()
    };
    let mut stream = api
        .list_stream(&Identity::admin(), every_page)
        .await
        .unwrap();
    stream.next_page().await.unwrap().unwrap();

    let during = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        let item = api.seed(ITEMS + 1, "MA").await;
        api.get(&Identity::admin(), &item.id).await.unwrap();
    })
    .await;

    assert!(during.is_ok(), "calls waited for the open stream");
    let rest = stream.collect().await.unwrap();
    let rows: usize = rest.iter().map(|page| page.data.len()).sum();
    assert_eq!(rows + 100, ITEMS as usize, "the stream keeps its snapshot");
    app.stop().await;
}
