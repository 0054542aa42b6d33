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

crate::for_both_resources!(
    of_concurrent_assigns_to_different_organizations_exactly_one_wins,
    of_concurrent_creates_of_one_value_exactly_one_wins,
);
