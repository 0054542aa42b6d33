//! The proof that revisions follow commit order under load: sixteen writers
//! change DIDs and Sender IDs at once while watchers (an admin per kind, a
//! reseller) and a list-then-watch client run. Each watcher must receive
//! every change of its view exactly once, in revision order, and the
//! list-then-watch copy must equal a final list. A store that handed out
//! revisions out of commit order would let a watcher pass a revision whose
//! change was not committed yet, and miss it.

use crate::helpers::{Engine, Identity, TestApp};
use crate::resources::{
    ChangeRecord, Changes, Dids, EventRecord, ListParams, Record, Resource, SenderIds,
    WatchMessage, WatchParams, WatchStream,
};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

const WRITERS: u32 = 16;
const STEPS: u32 = 200;
const REMOVED: i32 = 3;
/// List-then-watch clients, one after another while the writers write.
const LISTS: usize = 5;
const WAIT: Duration = Duration::from_secs(30);

/// One writer's work: creates, then assignments (to the watching reseller
/// or to another tenant), unassignments and updates of its own items, both
/// kinds in turn.
async fn write(app_dids: Dids, app_senders: SenderIds, writer: u32, tenants: [Uuid; 2]) -> Ids {
    let admin = Identity::admin();
    let mut ids = Ids::default();
    for step in 0..STEPS {
        let n = 1 + writer * 1_000 + step;
        if step % 2 == 0 {
            act(&app_dids, &admin, &mut ids.dids, n, step, tenants).await;
        } else {
            act(&app_senders, &admin, &mut ids.sender_ids, n, step, tenants).await;
        }
    }
    ids
}

#[derive(Default)]
struct Ids {
    dids: Vec<String>,
    sender_ids: Vec<String>,
}

async fn act<R: Resource>(
    api: &R,
    admin: &Identity,
    ids: &mut Vec<String>,
    n: u32,
    step: u32,
    tenants: [Uuid; 2],
) {
    let pick = ids.get((step as usize / 2) % ids.len().max(1)).cloned();
    match (step / 2 % 5, pick) {
        (0, _) | (_, None) => {
            let item = api.create(admin, &R::value(n), "MA", None, 0).await;
            ids.push(item.expect("a create of a new value succeeds").id);
        }
        (1, Some(id)) => drop(api.assign(admin, &id, &tenants[0].to_string()).await),
        (2, Some(id)) => drop(api.assign(admin, &id, &tenants[1].to_string()).await),
        (3, Some(id)) => drop(api.unassign(admin, &id).await),
        (_, Some(id)) => {
            let changes = Changes {
                description: Some(format!("step {step}")),
                ..Changes::default()
            };
            drop(api.update(admin, &id, changes).await);
        }
    }
}

/// Every change of the items `ids`, from their histories, by revision.
async fn histories<R: Resource>(api: &R, ids: &[String]) -> Vec<(Option<Record>, ChangeRecord)> {
    let admin = Identity::admin();
    let mut changes = Vec::new();
    for id in ids {
        let pages = api.history(&admin, id, 1, 100, true).await.unwrap();
        let mut before = None;
        for change in pages.into_iter().flat_map(|page| page.data) {
            changes.push((before.replace(change.item.clone()), change));
        }
    }
    changes.sort_by_key(|(_, change)| change.revision);
    changes
}

/// The messages of `watch` until one says everything up to `head` was sent.
async fn until(watch: &mut WatchStream, head: i64) -> Vec<EventRecord> {
    let mut events = Vec::new();
    loop {
        let message: WatchMessage = watch.within(WAIT).await.expect("the watch goes on");
        events.extend(message.events);
        if message.revision >= head {
            return events;
        }
    }
}

fn revisions(events: &[EventRecord]) -> Vec<i64> {
    events.iter().map(|event| event.revision).collect()
}

/// Every item `who` can list now, by id, and the list's revision.
async fn listed<R: Resource>(api: &R, who: &Identity) -> (BTreeMap<String, Record>, i64) {
    let params = ListParams {
        limit: 100,
        all_pages: true,
        ..ListParams::default()
    };
    let pages = api.list(who, params).await.unwrap();
    let revision = pages[0].revision;
    let items = pages.into_iter().flat_map(|page| page.data);
    (
        items.map(|item| (item.id.clone(), item)).collect(),
        revision,
    )
}

async fn watch<R: Resource>(api: &R, who: &Identity, start_revision: i64) -> WatchStream {
    let params = WatchParams {
        start_revision,
        ..WatchParams::default()
    };
    api.watch(who, params).await.unwrap()
}

pub async fn every_watcher_gets_every_change_once_in_commit_order(engine: Engine) {
    // Changes a reseller does not see reach its watch as heartbeats only.
    let app = TestApp::spawn_with(engine, |settings| {
        settings.changes.watch_heartbeat = Duration::from_millis(100);
    })
    .await;
    let (dids, sender_ids) = (Dids::new(&app), SenderIds::new(&app));
    let tenants = [Uuid::now_v7(), Uuid::now_v7()];
    let admin = Identity::admin();
    let reseller = Identity::reseller(tenants[0]);
    let start = listed(&dids, &admin).await.1;
    let mut did_watch = watch(&dids, &admin, start).await;
    let mut sender_id_watch = watch(&sender_ids, &admin, start).await;
    let mut reseller_watch = watch(&dids, &reseller, start).await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write(dids.clone(), sender_ids.clone(), w, tenants)))
        .collect();
    // List-then-watch clients list while the writers write.
    let mut copies = Vec::new();
    for _ in 0..LISTS {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (copy, listed_at) = listed(&dids, &admin).await;
        copies.push((copy, listed_at, watch(&dids, &admin, listed_at).await));
    }
    let mut ids = Ids::default();
    for writer in writers {
        let written = writer.await.unwrap();
        ids.dids.extend(written.dids);
        ids.sender_ids.extend(written.sender_ids);
    }
    let (fresh, head) = listed(&dids, &admin).await;

    let did_changes = histories(&dids, &ids.dids).await;
    let sender_id_changes = histories(&sender_ids, &ids.sender_ids).await;
    let changes = did_changes.len() + sender_id_changes.len();
    assert!(changes > 2_000, "only {changes} changes");
    let expected = |changes: &[(Option<Record>, ChangeRecord)]| -> Vec<i64> {
        changes.iter().map(|(_, change)| change.revision).collect()
    };
    let did_events = until(&mut did_watch, head).await;
    assert_eq!(revisions(&did_events), expected(&did_changes));
    let sender_id_events = until(&mut sender_id_watch, head).await;
    assert_eq!(revisions(&sender_id_events), expected(&sender_id_changes));

    // A reseller's view: live items, shared or its own.
    let own = tenants[0].to_string();
    let seen = |item: &Record| {
        item.deleted_at.is_none() && item.organization_id.as_ref().is_none_or(|o| *o == own)
    };
    let in_view: Vec<i64> = did_changes
        .iter()
        .filter(|(before, change)| before.as_ref().is_some_and(seen) || seen(&change.item))
        .map(|(_, change)| change.revision)
        .collect();
    assert_eq!(revisions(&until(&mut reseller_watch, head).await), in_view);

    for (mut copy, listed_at, mut copy_watch) in copies {
        let events = until(&mut copy_watch, head).await;
        let after_list: Vec<i64> = expected(&did_changes)
            .into_iter()
            .filter(|revision| *revision > listed_at)
            .collect();
        assert_eq!(revisions(&events), after_list, "the changes after the list");
        for event in &events {
            // A change the list already held would come with its etag.
            let held = copy.get(&event.item.id).map(|item| &item.etag);
            if event.event_type != REMOVED {
                assert_ne!(held, Some(&event.item.etag), "repeated: {event:?}");
            }
            match event.event_type {
                REMOVED => copy.remove(&event.item.id),
                _ => copy.insert(event.item.id.clone(), event.item.clone()),
            };
        }
        assert_eq!(copy, fresh);
    }
    app.stop().await;
}

crate::for_every_engine!(every_watcher_gets_every_change_once_in_commit_order);
