//! Tenant isolation, as a property: whatever admins do, no reseller response
//! (unary, or any streamed page) carries an item held by another
//! organization, and no `meta` count reveals one.

use crate::helpers::{Identity, TestApp};
use crate::resources::{AvailableParams, ListParams, Record, Resource};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use uuid::Uuid;

const ORGANIZATIONS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Create,
    Assign {
        item: usize,
        organization: usize,
    },
    Unassign {
        item: usize,
    },
    Delete {
        item: usize,
    },
    Get {
        item: usize,
        reseller: usize,
    },
    List {
        reseller: usize,
        shared: Option<bool>,
        limit: u32,
    },
    ListAvailable {
        reseller: usize,
        limit: u32,
    },
    GetAvailable {
        item: usize,
        reseller: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let org = 0..ORGANIZATIONS;
    let item = any::<usize>();
    prop_oneof![
        3 => Just(Action::Create),
        3 => (item, org.clone()).prop_map(|(item, organization)| Action::Assign { item, organization }),
        1 => item.prop_map(|item| Action::Unassign { item }),
        1 => item.prop_map(|item| Action::Delete { item }),
        2 => (item, org.clone()).prop_map(|(item, reseller)| Action::Get { item, reseller }),
        2 => (org.clone(), proptest::option::of(any::<bool>()), 1..4u32)
            .prop_map(|(reseller, shared, limit)| Action::List { reseller, shared, limit }),
        2 => (org.clone(), 1..4u32).prop_map(|(reseller, limit)| Action::ListAvailable { reseller, limit }),
        2 => (item, org).prop_map(|(item, reseller)| Action::GetAvailable { item, reseller }),
    ]
}

/// What the admins have made: each item's holder and whether it is deleted.
#[derive(Default)]
struct Model {
    items: Vec<Record>,
    state: HashMap<String, (Option<String>, bool)>,
}

impl Model {
    fn record(&mut self, item: Record) {
        self.state.insert(
            item.id.clone(),
            (item.organization_id.clone(), item.deleted_at.is_some()),
        );
        if !self.items.iter().any(|i| i.id == item.id) {
            self.items.push(item);
        }
    }

    fn pick(&self, index: usize) -> Option<&Record> {
        (!self.items.is_empty()).then(|| &self.items[index % self.items.len()])
    }

    /// Live items a reseller of `org` may see.
    fn visible(&self, org: &str) -> usize {
        self.state
            .values()
            .filter(|(holder, deleted)| !deleted && holder.as_deref().is_none_or(|h| h == org))
            .count()
    }
}

struct Tenants {
    organizations: Vec<Uuid>,
}

impl Tenants {
    fn reseller(&self, index: usize) -> (Identity, String) {
        let org = self.organizations[index];
        (Identity::reseller(org), org.to_string())
    }
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}

/// A record a reseller of `org` received must be shared or its own, and live.
fn admissible(record_holder: Option<&str>, record_deleted: bool, org: &str) -> bool {
    !record_deleted && record_holder.is_none_or(|h| h == org)
}

static VALUES: AtomicU32 = AtomicU32::new(1);

async fn run<R: Resource>(
    api: &R,
    tenants: &Tenants,
    model: &mut Model,
    actions: Vec<Action>,
) -> Result<(), TestCaseError> {
    let admin = Identity::admin();
    for action in actions {
        match action {
            Action::Create => {
                let n = VALUES.fetch_add(1, Ordering::Relaxed);
                let item = api
                    .create(&admin, &R::value(n), "MA", None, 0)
                    .await
                    .unwrap();
                model.record(item);
            }
            Action::Assign { item, organization } => {
                if let Some(item) = model.pick(item).cloned() {
                    let org = tenants.organizations[organization].to_string();
                    if let Ok(item) = api.assign(&admin, &item.id, &org).await {
                        model.record(item);
                    }
                }
            }
            Action::Unassign { item } => {
                if let Some(item) = model.pick(item).cloned()
                    && let Ok(item) = api.unassign(&admin, &item.id).await
                {
                    model.record(item);
                }
            }
            Action::Delete { item } => {
                if let Some(item) = model.pick(item).cloned()
                    && let Ok(item) = api.delete(&admin, &item.id).await
                {
                    model.record(item);
                }
            }
            Action::Get { item, reseller } => {
                let (caller, org) = tenants.reseller(reseller);
                if let Some(item) = model.pick(item).cloned()
                    && let Ok(seen) = api.get(&caller, &item.id).await
                {
                    check(
                        admissible(
                            seen.organization_id.as_deref(),
                            seen.deleted_at.is_some(),
                            &org,
                        ),
                        || format!("Get gave {seen:?} to a reseller of {org}"),
                    )?;
                    let (holder, deleted) = &model.state[&seen.id];
                    check(admissible(holder.as_deref(), *deleted, &org), || {
                        format!("Get revealed {} to {org}", seen.id)
                    })?;
                }
            }
            Action::List {
                reseller,
                shared,
                limit,
            } => {
                let (caller, org) = tenants.reseller(reseller);
                let params = ListParams {
                    limit,
                    all_pages: true,
                    is_shared: shared,
                    ..ListParams::default()
                };
                let pages = api.list(&caller, params).await.unwrap();
                let mut streamed = 0;
                for page in &pages {
                    for seen in &page.data {
                        let (holder, deleted) = &model.state[&seen.id];
                        check(admissible(holder.as_deref(), *deleted, &org), || {
                            format!("List streamed {} to {org}", seen.id)
                        })?;
                        check(seen.created_by.is_none(), || {
                            "List sent staff ids to a reseller".into()
                        })?;
                    }
                    streamed += page.data.len();
                    check(page.meta.total == pages[0].meta.total, || {
                        "meta.total changed between pages of one stream".into()
                    })?;
                }
                let total = pages[0].meta.total as usize;
                check(total == streamed, || {
                    format!("meta.total {total} but {streamed} streamed")
                })?;
                if shared.is_none() {
                    let visible = model.visible(&org);
                    check(total == visible, || {
                        format!("meta.total {total}, but {visible} items are visible to {org}")
                    })?;
                }
            }
            Action::ListAvailable { reseller, limit } => {
                let (caller, org) = tenants.reseller(reseller);
                let params = AvailableParams {
                    limit,
                    all_pages: true,
                    ..AvailableParams::default()
                };
                let pages = api.list_available(&caller, params).await.unwrap();
                let streamed: Vec<_> = pages.iter().flat_map(|p| &p.data).collect();
                for seen in &streamed {
                    let (holder, deleted) = &model.state[&seen.id];
                    check(admissible(holder.as_deref(), *deleted, &org), || {
                        format!("ListAvailable streamed {} to {org}", seen.id)
                    })?;
                }
                let total = pages[0].meta.total as usize;
                let visible = model.visible(&org);
                check(total == visible && streamed.len() == visible, || {
                    format!(
                        "ListAvailable: total {total}, streamed {}, visible {visible}",
                        streamed.len()
                    )
                })?;
            }
            Action::GetAvailable { item, reseller } => {
                let (caller, org) = tenants.reseller(reseller);
                if let Some(item) = model.pick(item).cloned() {
                    let (holder, deleted) = model.state[&item.id].clone();
                    let got = api.get_available(&caller, &item.id, None).await;
                    check(
                        got.is_ok() == admissible(holder.as_deref(), deleted, &org),
                        || format!("GetAvailable of {} for {org}: {got:?}", item.id),
                    )?;
                }
            }
        }
    }
    Ok(())
}

pub async fn no_reseller_ever_sees_another_tenants_items<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let tenants = Tenants {
        organizations: (0..ORGANIZATIONS).map(|_| Uuid::now_v7()).collect(),
    };
    let model = std::cell::RefCell::new(Model::default());
    let config = Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(action(), 5..30), |actions| {
            handle.block_on(run(&api, &tenants, &mut model.borrow_mut(), actions))
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

crate::for_both_resources!(no_reseller_ever_sees_another_tenants_items);
