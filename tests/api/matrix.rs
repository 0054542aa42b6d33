//! The authorization matrix: every RPC of both services, by every role, on an
//! item of every owner, with the status code the contract expects. The test
//! fails if the service descriptor has an RPC the table does not cover.

use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{
    AvailableParams, Changes, Dids, ImportRow, ListParams, Record, Resource, SenderIds, WatchParams,
};
use prost::Message;
use std::collections::BTreeSet;
use tonic::Code;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Get,
    Update,
    Delete,
    Assign,
    Unassign,
    List,
    ListAvailable,
    GetAvailable,
    History,
    AsOf,
    Watch,
    Hold,
    ReleaseHold,
    Undelete,
    Import,
    /// DIDs only.
    Allocate,
}

const OPS: [Op; 17] = [
    Op::Create,
    Op::Get,
    Op::Update,
    Op::Delete,
    Op::Assign,
    Op::Unassign,
    Op::List,
    Op::ListAvailable,
    Op::GetAvailable,
    Op::History,
    Op::AsOf,
    Op::Watch,
    Op::Hold,
    Op::ReleaseHold,
    Op::Undelete,
    Op::Import,
    Op::Allocate,
];

impl Op {
    fn rpc<R: Resource>(self) -> String {
        match self {
            Op::List => format!("List{}", R::PLURAL),
            Op::ListAvailable => format!("ListAvailable{}", R::PLURAL),
            Op::GetAvailable => format!("GetAvailable{}", R::SINGULAR),
            Op::History => format!("List{}History", R::SINGULAR),
            Op::AsOf => format!("Get{}AsOf", R::SINGULAR),
            Op::Watch => format!("Watch{}", R::PLURAL),
            Op::ReleaseHold => format!("Release{}Hold", R::SINGULAR),
            Op::Allocate => format!("Allocate{}", R::PLURAL),
            Op::Import => format!("Import{}", R::PLURAL),
            other => format!("{other:?}{}", R::SINGULAR),
        }
    }
}

/// Allocation is for DIDs only.
pub trait Allocates {
    const ALLOCATES: bool;
    fn allocate_one(
        &self,
        who: &Identity,
        organization_id: &str,
        hold: bool,
    ) -> impl std::future::Future<Output = Result<(), tonic::Status>> + Send;
}

impl Allocates for Dids {
    const ALLOCATES: bool = true;
    async fn allocate_one(
        &self,
        who: &Identity,
        organization_id: &str,
        hold: bool,
    ) -> Result<(), tonic::Status> {
        let request = numbering::proto::v1::AllocateDidsRequest {
            organization_id: organization_id.into(),
            count: 1,
            hold,
            ..Default::default()
        };
        self.client()
            .allocate_dids(who.request(request))
            .await
            .map(drop)
    }
}

impl Allocates for SenderIds {
    const ALLOCATES: bool = false;
    async fn allocate_one(&self, _: &Identity, _: &str, _: bool) -> Result<(), tonic::Status> {
        unreachable!("Sender IDs have no allocation")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Accountant,
    Reseller,
}

/// Whose item the call is about. For lists and create, which organization the
/// request names (`Deleted`: `show_deleted` for lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Nobody,
    Shared,
    Caller,
    Another,
    Deleted,
}

use Code::{
    AlreadyExists as Live, FailedPrecondition as Held, NotFound as Hidden, Ok as Allowed,
    PermissionDenied as Denied,
};

/// The contract, row by row: (operation, owner, [admin, accountant, reseller]).
const MATRIX: &[(Op, Owner, [Code; 3])] = &[
    (Op::Create, Owner::Nobody, [Allowed, Denied, Denied]),
    (Op::Get, Owner::Shared, [Allowed, Allowed, Allowed]),
    (Op::Get, Owner::Caller, [Allowed, Allowed, Allowed]),
    (Op::Get, Owner::Another, [Allowed, Allowed, Hidden]),
    (Op::Get, Owner::Deleted, [Allowed, Allowed, Hidden]),
    (Op::Update, Owner::Shared, [Allowed, Denied, Denied]),
    (Op::Update, Owner::Caller, [Allowed, Denied, Denied]),
    (Op::Update, Owner::Another, [Allowed, Denied, Denied]),
    (Op::Update, Owner::Deleted, [Hidden, Denied, Denied]),
    (Op::Delete, Owner::Shared, [Allowed, Denied, Denied]),
    (Op::Delete, Owner::Caller, [Allowed, Denied, Denied]),
    (Op::Delete, Owner::Another, [Allowed, Denied, Denied]),
    (Op::Delete, Owner::Deleted, [Hidden, Denied, Denied]),
    // Assign to the caller's organization.
    (Op::Assign, Owner::Shared, [Allowed, Denied, Denied]),
    (Op::Assign, Owner::Caller, [Allowed, Denied, Denied]),
    (Op::Assign, Owner::Another, [Held, Denied, Denied]),
    (Op::Assign, Owner::Deleted, [Hidden, Denied, Denied]),
    (Op::Unassign, Owner::Shared, [Allowed, Denied, Denied]),
    (Op::Unassign, Owner::Caller, [Allowed, Denied, Denied]),
    (Op::Unassign, Owner::Another, [Allowed, Denied, Denied]),
    (Op::Unassign, Owner::Deleted, [Hidden, Denied, Denied]),
    (Op::List, Owner::Nobody, [Allowed, Allowed, Allowed]),
    (Op::List, Owner::Caller, [Allowed, Allowed, Allowed]),
    (Op::List, Owner::Another, [Allowed, Allowed, Denied]),
    (Op::List, Owner::Deleted, [Allowed, Allowed, Denied]),
    (
        Op::ListAvailable,
        Owner::Nobody,
        [Allowed, Allowed, Allowed],
    ),
    (
        Op::ListAvailable,
        Owner::Caller,
        [Allowed, Allowed, Allowed],
    ),
    (
        Op::ListAvailable,
        Owner::Another,
        [Allowed, Allowed, Denied],
    ),
    // For the caller's organization (staff name it).
    (Op::GetAvailable, Owner::Shared, [Allowed, Allowed, Allowed]),
    (Op::GetAvailable, Owner::Caller, [Allowed, Allowed, Allowed]),
    (Op::GetAvailable, Owner::Another, [Hidden, Hidden, Hidden]),
    (Op::GetAvailable, Owner::Deleted, [Hidden, Hidden, Hidden]),
    // History names past holders: staff only, whoever holds the item.
    (Op::History, Owner::Shared, [Allowed, Allowed, Denied]),
    (Op::History, Owner::Caller, [Allowed, Allowed, Denied]),
    (Op::History, Owner::Another, [Allowed, Allowed, Denied]),
    (Op::History, Owner::Deleted, [Allowed, Allowed, Denied]),
    (Op::AsOf, Owner::Shared, [Allowed, Allowed, Denied]),
    (Op::AsOf, Owner::Caller, [Allowed, Allowed, Denied]),
    (Op::AsOf, Owner::Another, [Allowed, Allowed, Denied]),
    // Watches filtered by the organization named.
    (Op::Watch, Owner::Nobody, [Allowed, Allowed, Allowed]),
    (Op::Watch, Owner::Caller, [Allowed, Allowed, Allowed]),
    (Op::Watch, Owner::Another, [Allowed, Allowed, Denied]),
    // Holds for the caller's organization (a reseller may hold for its
    // own); an item not shared cannot be held, and another tenant's is
    // hidden from a reseller.
    (Op::Hold, Owner::Shared, [Allowed, Denied, Allowed]),
    (Op::Hold, Owner::Caller, [Held, Denied, Held]),
    (Op::Hold, Owner::Another, [Held, Denied, Hidden]),
    (Op::Hold, Owner::Deleted, [Hidden, Denied, Hidden]),
    (Op::ReleaseHold, Owner::Shared, [Allowed, Denied, Allowed]),
    (Op::ReleaseHold, Owner::Caller, [Allowed, Denied, Allowed]),
    (Op::ReleaseHold, Owner::Another, [Allowed, Denied, Hidden]),
    (Op::ReleaseHold, Owner::Deleted, [Hidden, Denied, Hidden]),
    (Op::Undelete, Owner::Shared, [Live, Denied, Denied]),
    (Op::Undelete, Owner::Deleted, [Allowed, Denied, Denied]),
    (Op::Import, Owner::Nobody, [Allowed, Denied, Denied]),
    // Assigning allocations are an admin's; `Caller`: holding ones, for
    // the caller's organization.
    (Op::Allocate, Owner::Nobody, [Allowed, Denied, Denied]),
    (Op::Allocate, Owner::Caller, [Allowed, Denied, Allowed]),
];

/// The RPC names of a service, as its descriptor lists them.
pub fn described_rpcs(service: &str) -> BTreeSet<String> {
    let set =
        prost_types::FileDescriptorSet::decode(numbering::proto::FILE_DESCRIPTOR_SET).unwrap();
    set.file
        .iter()
        .filter(|file| file.package() == "numbering.v1")
        .flat_map(|file| &file.service)
        .filter(|s| s.name() == service)
        .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

pub async fn every_rpc_role_and_owner_gets_the_contracts_status<R: Resource + Allocates>(
    app: &TestApp,
) {
    let service = format!("{}Service", R::SINGULAR);
    let rows = MATRIX
        .iter()
        .filter(|(op, ..)| *op != Op::Allocate || R::ALLOCATES);
    let covered: BTreeSet<String> = rows.clone().map(|(op, ..)| op.rpc::<R>()).collect();
    assert_eq!(
        described_rpcs(&service),
        covered,
        "the matrix must cover every RPC of {service}"
    );
    assert_eq!(OPS.len() - usize::from(!R::ALLOCATES), covered.len());

    let api = R::new(app);
    let own = organization();
    let mut n = 0;
    for &(op, owner, expected) in rows {
        // Writes are refused to all but the admin, so the admin goes last.
        for (role, code) in [
            (Role::Reseller, expected[2]),
            (Role::Accountant, expected[1]),
            (Role::Admin, expected[0]),
        ] {
            n += 10;
            let item = fixture(&api, owner, own, n).await;
            let caller = match role {
                Role::Admin => Identity::admin(),
                Role::Accountant => Identity::accountant(),
                Role::Reseller => Identity::reseller(own),
            };
            let staff = role != Role::Reseller;
            let got = call(&api, op, owner, &caller, staff, item.as_ref(), own, n + 5).await;
            assert_eq!(
                got,
                code,
                "{} by {role:?} on an item of {owner:?}",
                op.rpc::<R>()
            );
        }
    }
}

/// One item of `owner` (none for `Nobody`), with a fresh value.
async fn fixture<R: Resource>(api: &R, owner: Owner, own: Uuid, n: u32) -> Option<Record> {
    let admin = Identity::admin();
    let item = match owner {
        Owner::Nobody => return None,
        _ => api.seed(n, "MA").await,
    };
    Some(match owner {
        Owner::Caller => api
            .assign(&admin, &item.id, &own.to_string())
            .await
            .unwrap(),
        Owner::Another => api
            .assign(&admin, &item.id, &organization().to_string())
            .await
            .unwrap(),
        Owner::Deleted => api.delete(&admin, &item.id).await.unwrap(),
        _ => item,
    })
}

#[allow(clippy::too_many_arguments)]
async fn call<R: Resource + Allocates>(
    api: &R,
    op: Op,
    owner: Owner,
    caller: &Identity,
    staff: bool,
    item: Option<&Record>,
    own: Uuid,
    n: u32,
) -> Code {
    let id = item.map(|i| i.id.clone()).unwrap_or_default();
    let named = match owner {
        Owner::Caller => Some(own.to_string()),
        Owner::Another => Some(organization().to_string()),
        _ => None,
    };
    let own = own.to_string();
    let outcome = match op {
        Op::Create => api
            .create(caller, &R::value(n), "MA", None, 0)
            .await
            .map(drop),
        Op::Get => api.get(caller, &id).await.map(drop),
        Op::Update => api
            .update(
                caller,
                &id,
                Changes {
                    description: Some("x".into()),
                    ..Changes::default()
                },
            )
            .await
            .map(drop),
        Op::Delete => api.delete(caller, &id).await.map(drop),
        Op::Assign => api.assign(caller, &id, &own).await.map(drop),
        Op::Unassign => api.unassign(caller, &id).await.map(drop),
        Op::List => {
            let params = ListParams {
                organization_id: named,
                show_deleted: owner == Owner::Deleted,
                ..ListParams::default()
            };
            api.list(caller, params).await.map(drop)
        }
        Op::ListAvailable => api
            .list_available(
                caller,
                AvailableParams {
                    organization_id: named,
                    ..AvailableParams::default()
                },
            )
            .await
            .map(drop),
        Op::GetAvailable => api
            .get_available(caller, &id, staff.then_some(own.as_str()))
            .await
            .map(drop),
        Op::History => api.history(caller, &id, 0, 0, false).await.map(drop),
        Op::AsOf => {
            let item = item.expect("an item");
            let time = item.updated_at.expect("a time");
            api.as_of(caller, &item.value, &item.country, time)
                .await
                .map(drop)
        }
        Op::Watch => {
            let params = WatchParams {
                organization_id: named,
                ..WatchParams::default()
            };
            api.watch(caller, params).await.map(drop)
        }
        Op::Hold => api.hold(caller, &id, &own).await.map(drop),
        Op::ReleaseHold => api.release(caller, &id).await.map(drop),
        Op::Undelete => api.undelete(caller, &id).await.map(drop),
        Op::Import => {
            let rows = vec![ImportRow::new(&R::value(n), "MA")];
            api.import(caller, vec![(rows, false)]).await.map(drop)
        }
        Op::Allocate => api.allocate_one(caller, &own, owner == Owner::Caller).await,
    };
    match outcome {
        Ok(()) => Code::Ok,
        Err(status) => status.code(),
    }
}

crate::for_both_resources!(every_rpc_role_and_owner_gets_the_contracts_status);
