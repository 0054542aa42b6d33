//! Watches: list, then watch from the list's revision, and the copy a
//! watcher keeps equals a fresh list; events in revision order, each once;
//! resumption; heartbeats; other server processes; and tenant isolation.

use crate::assertions::expect_error;
use crate::helpers::{Binary, Engine, Identity, TestApp, organization};
use crate::resources::{
    Changes, EventRecord, ListParams, Record, Resource, WatchMessage, WatchParams, WatchStream,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::time::Duration;
use tonic::Code;
use uuid::Uuid;

const ADDED: i32 = 1;
const REMOVED: i32 = 3;
const WAIT: Duration = Duration::from_secs(10);

/// A watcher's copy of the inventory, by id.
#[derive(Debug, Default, PartialEq)]
struct Copy(BTreeMap<String, Record>);

impl Copy {
    fn apply(&mut self, event: &EventRecord) {
        if event.event_type == REMOVED {
            self.0.remove(&event.item.id);
        } else {
            self.0.insert(event.item.id.clone(), event.item.clone());
        }
    }
}

/// Every item `who` can list now, and the list's revision.
async fn listed<R: Resource>(api: &R, who: &Identity) -> (Copy, i64) {
    let params = ListParams {
        limit: 100,
        all_pages: true,
        ..ListParams::default()
    };
    let pages = api.list(who, params).await.unwrap();
    let items = pages.iter().flat_map(|page| page.data.clone());
    let copy = Copy(items.map(|item| (item.id.clone(), item)).collect());
    (copy, pages[0].revision)
}

/// Messages until one says everything up to `revision` was sent.
async fn until(watch: &mut WatchStream, revision: i64) -> Vec<WatchMessage> {
    let mut messages = Vec::new();
    loop {
        let message = watch.within(WAIT).await.expect("the watch goes on");
        let done = message.revision >= revision;
        messages.push(message);
        if done {
            return messages;
        }
    }
}

fn events(messages: &[WatchMessage]) -> Vec<EventRecord> {
    messages.iter().flat_map(|m| m.events.clone()).collect()
}

/// Some admin writes: creates, updates, assignments, deletes.
async fn churn<R: Resource>(api: R, from: u32, count: u32) {
    let admin = Identity::admin();
    let acme = organization().to_string();
    for n in from..from + count {
        let item = api
            .create(&admin, &R::value(n), "MA", None, 0)
            .await
            .unwrap();
        match n % 4 {
            0 => drop(api.assign(&admin, &item.id, &acme).await.unwrap()),
            1 => drop(api.delete(&admin, &item.id).await.unwrap()),
            2 => {
                let changes = Changes {
                    description: Some(format!("n{n}")),
                    ..Changes::default()
                };
                drop(api.update(&admin, &item.id, changes).await.unwrap());
            }
            _ => {}
        }
    }
}

pub async fn a_copy_kept_by_list_then_watch_equals_the_list<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    churn(api.clone(), 1, 8).await;
    let (mut copy, revision) = listed(&api, &admin).await;
    let params = WatchParams {
        start_revision: revision,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let writer = tokio::spawn(churn(api.clone(), 100, 20));
    writer.await.unwrap();
    let (fresh, head) = listed(&api, &admin).await;

    let messages = until(&mut watch, head).await;
    let events = events(&messages);
    for event in &events {
        copy.apply(event);
    }
    assert_eq!(copy, fresh);
    let revisions: Vec<_> = events.iter().map(|e| e.revision).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    assert!(revisions.iter().all(|r| *r > revision));
    assert!(messages.windows(2).all(|w| w[0].revision <= w[1].revision));
}

pub async fn a_watch_sends_the_initial_state_first<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    churn(api.clone(), 1, 6).await;
    let (listed_now, revision) = listed(&api, &admin).await;
    let params = WatchParams {
        send_initial_state: true,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let mut copy = Copy::default();
    loop {
        let message = watch.within(WAIT).await.unwrap();
        assert!(message.events.iter().all(|e| e.event_type == ADDED));
        message.events.iter().for_each(|e| copy.apply(e));
        if message.initial_state_complete {
            assert_eq!(message.revision, revision);
            break;
        }
    }
    assert_eq!(copy, listed_now);

    let created = api.seed(50, "MA").await;
    let next = until(&mut watch, revision + 1).await;
    let added = events(&next);
    assert_eq!(added.len(), 1);
    assert_eq!((added[0].event_type, &added[0].item), (ADDED, &created));
    assert!(added[0].revision > revision);

    let status = api
        .watch(
            &admin,
            WatchParams {
                send_initial_state: true,
                start_revision: 1,
                ..WatchParams::default()
            },
        )
        .await;
    crate::assertions::expect_invalid(status.map(drop), "start_revision");
}

pub async fn a_reconnected_watch_misses_nothing<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let mut watch = api.watch(&admin, WatchParams::default()).await.unwrap();
    let first = api.seed(1, "MA").await;
    let seen = events(&until(&mut watch, 1).await);
    assert_eq!(seen.last().unwrap().item.id, first.id);
    let last = seen.last().unwrap().revision;
    drop(watch);

    let second = api.seed(2, "MA").await;
    let third = api.seed(3, "MA").await;
    let params = WatchParams {
        start_revision: last,
        ..WatchParams::default()
    };
    let mut resumed = api.watch(&admin, params).await.unwrap();
    let missed = events(&until(&mut resumed, last + 2).await);
    let ids: Vec<_> = missed.iter().map(|e| e.item.id.clone()).collect();
    assert_eq!(ids, [second.id, third.id]);
}

/// A revision the log has not reached would be waited for in silence: it
/// is OUT_OF_RANGE, naming the head; the head itself is a fine start.
pub async fn a_watch_from_beyond_the_head_is_out_of_range<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    api.seed(1, "MA").await;
    let (_, head) = listed(&api, &admin).await;
    for start_revision in [head + 1, i64::MAX] {
        let params = WatchParams {
            start_revision,
            ..WatchParams::default()
        };
        let status = expect_error(
            api.watch(&admin, params).await.map(drop),
            Code::OutOfRange,
            "REVISION_AHEAD",
        );
        assert!(status.message().contains(&head.to_string()), "{status:?}");
    }
    let params = WatchParams {
        start_revision: head,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let second = api.seed(2, "MA").await;
    let seen = events(&until(&mut watch, head + 1).await);
    assert_eq!(seen.last().unwrap().item.id, second.id);
}

pub async fn concurrent_writers_reach_a_watcher_in_order_without_gaps<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let (_, start) = listed(&api, &admin).await;
    let params = WatchParams {
        start_revision: start,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let writers = (0..4).map(|w| {
        let api = api.clone();
        tokio::spawn(async move {
            for n in 0..10 {
                api.seed(1000 + w * 100 + n, "MA").await;
            }
        })
    });
    futures::future::join_all(writers).await;
    let (_, head) = listed(&api, &admin).await;
    let revisions: Vec<_> = events(&until(&mut watch, head).await)
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(revisions.len(), 40, "every change once: {revisions:?}");
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    assert!(revisions[0] > start, "{revisions:?}");
}

pub async fn a_watch_filters_by_organization_and_country<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let acme = organization().to_string();
    let params = WatchParams {
        organization_id: Some(acme.clone()),
        countries: vec!["MA".into()],
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let moroccan = api.seed(1, "MA").await;
    let french = api.seed(2, "FR").await;
    api.assign(&admin, &french.id, &acme).await.unwrap();
    api.assign(&admin, &moroccan.id, &acme).await.unwrap();
    let gone = api.unassign(&admin, &moroccan.id).await.unwrap();
    let (_, head) = listed(&api, &admin).await;
    let seen = events(&until(&mut watch, head).await);
    let kinds: Vec<_> = seen
        .iter()
        .map(|e| (e.event_type, e.item.id.clone()))
        .collect();
    assert_eq!(
        kinds,
        [(ADDED, moroccan.id.clone()), (REMOVED, moroccan.id.clone())]
    );
    assert_eq!(seen[1].item, gone);
}

pub async fn a_watch_from_before_the_kept_history_is_compacted<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api.seed(1, "MA").await;
    for n in 0..3 {
        let changes = Changes {
            description: Some(format!("v{n}")),
            ..Changes::default()
        };
        api.update(&admin, &item.id, changes).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Another server with a short retention purges as it starts.
    let mut other = Binary::start_on(
        app.database_url(),
        &["--auth", "trusted-headers", "--history-retention", "10ms"],
        &[],
    );
    while other.next_line()["message"] != "purged history and remembered writes" {}
    let params = WatchParams {
        start_revision: 1,
        ..WatchParams::default()
    };
    let status = expect_error(
        api.watch(&admin, params).await.map(drop),
        Code::OutOfRange,
        "REVISION_COMPACTED",
    );
    assert!(status.message().contains("list again"), "{status:?}");
    // The item's last state is kept, and history before the horizon is gone.
    let history = api.history(&admin, &item.id, 0, 0, false).await.unwrap();
    assert_eq!(history[0].data.len(), 1);
    assert_eq!(history[0].data[0].item.description.as_deref(), Some("v2"));
    expect_error(
        api.as_of(&admin, &item.value, "MA", item.created_at.unwrap())
            .await,
        Code::OutOfRange,
        "HISTORY_PURGED",
    );
    let (_, head) = listed(&api, &admin).await;
    let params = WatchParams {
        start_revision: head,
        ..WatchParams::default()
    };
    assert!(api.watch(&admin, params).await.is_ok());
    assert!(other.terminate());
}

pub async fn another_processs_writes_reach_a_watcher_within_a_second<R: Resource>(app: &TestApp) {
    let other = Binary::start_on(app.database_url(), &["--auth", "trusted-headers"], &[]);
    let there = R::over(other.channel().await);
    let here = R::new(app);
    let admin = Identity::admin();
    for (n, (writer, watcher)) in [(&here, &there), (&there, &here)].into_iter().enumerate() {
        let (_, start) = listed(watcher, &admin).await;
        let params = WatchParams {
            start_revision: start,
            ..WatchParams::default()
        };
        let mut watch = watcher.watch(&admin, params).await.unwrap();
        let created = writer.seed(n as u32 + 1, "MA").await;
        let began = std::time::Instant::now();
        let message = until(&mut watch, start + 1).await;
        let elapsed = began.elapsed();
        assert_eq!(events(&message)[0].item, created);
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    }
}

pub async fn idle_watches_get_heartbeats<R: Resource>(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.watch_heartbeat = Duration::from_millis(300);
    })
    .await;
    let api = R::new(&app);
    let admin = Identity::admin();
    api.seed(1, "MA").await;
    let (_, head) = listed(&api, &admin).await;
    let mut watch = api.watch(&admin, WatchParams::default()).await.unwrap();
    for _ in 0..2 {
        let beat = watch.within(Duration::from_secs(3)).await.unwrap();
        assert!(beat.events.is_empty());
        assert_eq!(beat.revision, head);
    }
    drop(watch);
    app.stop().await;
}

pub async fn a_watcher_that_stops_reading_is_cut_off<R: Resource>(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.streams.stream_stall_timeout = Duration::from_millis(500);
    })
    .await;
    let api = R::new(&app);
    let admin = Identity::admin();
    let channel = crate::helpers::tiny_window_channel(app.address).await;
    let mut watch = R::over(channel)
        .watch(&admin, WatchParams::default())
        .await
        .unwrap();
    // More than those windows hold, never read.
    churn(api.clone(), 1, 100).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut last = None;
    while let Some(message) = watch.next().await {
        last = Some(message);
    }
    let status = last
        .expect("a message")
        .expect_err("the watch ends in an error");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("took no page"), "{status:?}");
    app.stop().await;
}

pub async fn watches_beyond_a_callers_budget_are_refused<R: Resource>(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.watches_per_caller = 2;
    })
    .await;
    let api = R::new(&app);
    let reseller = Identity::reseller(organization());
    let first = api.watch(&reseller, WatchParams::default()).await.unwrap();
    let second = api.watch(&reseller, WatchParams::default()).await.unwrap();
    let status = expect_error(
        api.watch(&reseller, WatchParams::default()).await.map(drop),
        Code::ResourceExhausted,
        "TOO_MANY_STREAMS",
    );
    assert!(status.message().contains("2 watches"), "{status:?}");
    // Another tenant has its own places; a closed watch gives its place back.
    let other = Identity::reseller(organization());
    assert!(api.watch(&other, WatchParams::default()).await.is_ok());
    drop(first);
    let mut again = Err(tonic::Status::unknown("not tried"));
    for _ in 0..50 {
        again = api.watch(&reseller, WatchParams::default()).await;
        if again.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_ok(), "{:?}", again.err());
    drop(second);
    app.stop().await;
}

#[derive(Debug, Clone)]
enum Action {
    Create { country: bool },
    Assign { item: usize, organization: usize },
    Unassign { item: usize },
    Delete { item: usize },
    Recountry { item: usize },
}

fn action() -> impl Strategy<Value = Action> {
    let item = any::<usize>();
    prop_oneof![
        3 => any::<bool>().prop_map(|country| Action::Create { country }),
        4 => (item, 0..3usize)
            .prop_map(|(item, organization)| Action::Assign { item, organization }),
        2 => item.prop_map(|item| Action::Unassign { item }),
        1 => item.prop_map(|item| Action::Delete { item }),
        1 => item.prop_map(|item| Action::Recountry { item }),
    ]
}

async fn watched_by_a_reseller<R: Resource>(
    api: &R,
    actions: Vec<Action>,
    next_value: &std::sync::atomic::AtomicU32,
) -> Result<(), TestCaseError> {
    use std::sync::atomic::Ordering;
    let admin = Identity::admin();
    let organizations: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let own = organizations[0].to_string();
    let reseller = Identity::reseller(organizations[0]);
    let mut watch = api
        .watch(
            &reseller,
            WatchParams {
                send_initial_state: true,
                ..WatchParams::default()
            },
        )
        .await
        .unwrap();
    let mut ids: Vec<String> = Vec::new();
    for action in actions {
        let pick = |i: usize| (!ids.is_empty()).then(|| ids[i % ids.len()].clone());
        match action {
            Action::Create { country } => {
                let n = next_value.fetch_add(1, Ordering::Relaxed);
                let country = if country { "MA" } else { "FR" };
                let item = api
                    .create(&admin, &R::value(n), country, None, 0)
                    .await
                    .unwrap();
                ids.push(item.id);
            }
            Action::Assign { item, organization } => {
                if let Some(id) = pick(item) {
                    let org = organizations[organization].to_string();
                    let _ = api.assign(&admin, &id, &org).await;
                }
            }
            Action::Unassign { item } => {
                if let Some(id) = pick(item) {
                    let _ = api.unassign(&admin, &id).await;
                }
            }
            Action::Delete { item } => {
                if let Some(id) = pick(item) {
                    let _ = api.delete(&admin, &id).await;
                }
            }
            Action::Recountry { item } => {
                if let Some(id) = pick(item) {
                    let changes = Changes {
                        country: Some("ES".into()),
                        ..Changes::default()
                    };
                    let _ = api.update(&admin, &id, changes).await;
                }
            }
        }
    }
    let (expected, head) = listed(api, &reseller).await;
    let mut copy = Copy::default();
    let mut position = 0;
    while position < head {
        let message = watch.within(WAIT).await.unwrap();
        for event in &message.events {
            let holder = event.item.organization_id.as_deref();
            prop_assert!(
                holder.is_none_or(|h| h == own),
                "a reseller of {own} was sent {event:?}"
            );
            prop_assert!(event.item.created_by.is_none(), "staff ids sent: {event:?}");
            copy.apply(event);
        }
        position = message.revision;
    }
    prop_assert_eq!(copy, expected);
    Ok(())
}

/// Every change that leaves a reseller's view unchanged is not sent, so its
/// watch learns the head from heartbeats: a short one here.
pub async fn a_resellers_watch_never_names_another_tenant<R: Resource>(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.watch_heartbeat = Duration::from_millis(100);
    })
    .await;
    let api = R::new(&app);
    let values = std::sync::atomic::AtomicU32::new(1);
    let config = Config {
        cases: 8,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(action(), 5..30), |actions| {
            handle.block_on(watched_by_a_reseller(&api, actions, &values))
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    app.stop().await;
}

crate::for_both_resources!(
    a_copy_kept_by_list_then_watch_equals_the_list,
    a_watch_sends_the_initial_state_first,
    a_reconnected_watch_misses_nothing,
    a_watch_from_beyond_the_head_is_out_of_range,
    concurrent_writers_reach_a_watcher_in_order_without_gaps,
    a_watch_filters_by_organization_and_country,
    a_watch_from_before_the_kept_history_is_compacted,
    another_processs_writes_reach_a_watcher_within_a_second,
);

mod engines {
    use super::*;
    use crate::resources::{Dids, SenderIds};

    async fn heartbeats(engine: Engine) {
        idle_watches_get_heartbeats::<Dids>(engine).await;
        idle_watches_get_heartbeats::<SenderIds>(engine).await;
    }

    async fn slow_watchers(engine: Engine) {
        a_watcher_that_stops_reading_is_cut_off::<Dids>(engine).await;
    }

    async fn watch_budget(engine: Engine) {
        watches_beyond_a_callers_budget_are_refused::<Dids>(engine).await;
    }

    async fn reseller_isolation(engine: Engine) {
        a_resellers_watch_never_names_another_tenant::<Dids>(engine).await;
        a_resellers_watch_never_names_another_tenant::<SenderIds>(engine).await;
    }

    crate::for_every_engine!(heartbeats, slow_watchers, watch_budget, reseller_isolation);
}
