//! Both services behind one test-side trait, so that each rule of the
//! contract is written once and checked on DIDs and on Sender IDs.

use crate::helpers::{Identity, TestApp};
use futures::{Stream, StreamExt};
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use numbering::proto::v1::sender_id_service_client::SenderIdServiceClient;
use std::future::Future;
use std::pin::Pin;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

/// An item as either service returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub value: String,
    pub country: String,
    pub description: Option<String>,
    pub is_shared: bool,
    pub organization_id: Option<String>,
    pub status: i32,
    pub created_at: Option<prost_types::Timestamp>,
    pub updated_at: Option<prost_types::Timestamp>,
    pub deleted_at: Option<prost_types::Timestamp>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub deleted_by: Option<String>,
}

/// An item as the available lists return it.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    pub id: String,
    pub value: String,
    pub country: String,
    pub status: i32,
    pub is_shared: bool,
}

/// One streamed page.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub data: Vec<T>,
    pub meta: pb::PaginationMeta,
}

/// The fields of a `List…` request, the identifier filter as `values`.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub page: u32,
    pub limit: u32,
    pub search: String,
    /// 1 = identifier, 2 = country, 3 = status, 4 = created_at (both enums).
    pub sort_by: i32,
    pub sort_order: i32,
    pub status: Option<i32>,
    pub is_shared: Option<bool>,
    pub organization_id: Option<String>,
    pub countries: Vec<String>,
    pub values: Vec<String>,
    pub show_deleted: bool,
    pub all_pages: bool,
    /// The client's deadline for the call (`grpc-timeout`).
    pub deadline: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Default)]
pub struct AvailableParams {
    pub page: u32,
    pub limit: u32,
    pub search: String,
    pub sort_order: i32,
    pub organization_id: Option<String>,
    pub all_pages: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub value: Option<String>,
    pub country: Option<String>,
    pub description: Option<String>,
    pub status: Option<i32>,
}

type Reply<T> = Result<T, Status>;

pub trait Resource: Clone + Send + Sync + 'static {
    const VALUE_FIELD: &'static str;
    const VALUES_FIELD: &'static str;
    const TAKEN_REASON: &'static str;
    const NOT_FOUND_REASON: &'static str;
    const UNIQUE_PER_COUNTRY: bool;

    fn new(app: &TestApp) -> Self;
    /// A valid identifier, distinct for each `n`.
    fn value(n: u32) -> String;
    /// Another spelling the service must take for the same identifier.
    fn same_value_spelled_otherwise(value: &str) -> String;
    /// Identifiers the service must refuse.
    fn invalid_values() -> Vec<String>;

    fn create(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        description: Option<&str>,
        status: i32,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn get(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send;
    fn update(
        &self,
        who: &Identity,
        id: &str,
        changes: Changes,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn delete(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send;
    fn assign(
        &self,
        who: &Identity,
        id: &str,
        organization_id: &str,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn unassign(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send;
    /// The open stream of a list, to read page by page.
    fn list_stream(
        &self,
        who: &Identity,
        params: ListParams,
    ) -> impl Future<Output = Reply<PageStream<Record>>> + Send;
    fn list_available(
        &self,
        who: &Identity,
        params: AvailableParams,
    ) -> impl Future<Output = Reply<Vec<Listed<Available>>>> + Send;
    fn get_available(
        &self,
        who: &Identity,
        id: &str,
        organization_id: Option<&str>,
    ) -> impl Future<Output = Reply<Available>> + Send;

    /// Every page of a list.
    fn list(
        &self,
        who: &Identity,
        params: ListParams,
    ) -> impl Future<Output = Reply<Vec<Listed<Record>>>> + Send {
        async move { self.list_stream(who, params).await?.collect().await }
    }

    /// An active item in the shared pool, made by an admin.
    fn seed(&self, n: u32, country: &str) -> impl Future<Output = Record> + Send {
        async move {
            self.create(&Identity::admin(), &Self::value(n), country, None, 0)
                .await
                .expect("seed item is created")
        }
    }
}

/// A list stream, with its pages converted for the tests. Dropping it
/// cancels the call.
pub struct PageStream<T>(Pin<Box<dyn Stream<Item = Reply<Listed<T>>> + Send>>);

impl<T: Send + 'static> PageStream<T> {
    fn new<M: Send + 'static>(stream: Streaming<M>, convert: fn(M) -> Listed<T>) -> Self {
        Self(Box::pin(stream.map(move |message| message.map(convert))))
    }

    /// The next page, `None` at the end of the stream.
    pub async fn next_page(&mut self) -> Option<Reply<Listed<T>>> {
        self.0.next().await
    }

    /// The remaining pages; the first error ends them.
    pub async fn collect(mut self) -> Reply<Vec<Listed<T>>> {
        let mut pages = Vec::new();
        while let Some(page) = self.next_page().await {
            pages.push(page?);
        }
        Ok(pages)
    }
}

fn record_of_did(did: pb::Did) -> Record {
    let pb::Did {
        id,
        number,
        country,
        description,
        is_shared,
        organization_id,
        status,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        deleted_by,
    } = did;
    Record {
        id,
        value: number,
        country,
        description,
        is_shared,
        organization_id,
        status,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        deleted_by,
    }
}

fn record_of_sender_id(sender_id: pb::SenderId) -> Record {
    let pb::SenderId {
        id,
        sender_id,
        country,
        description,
        is_shared,
        organization_id,
        status,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        deleted_by,
    } = sender_id;
    Record {
        id,
        value: sender_id,
        country,
        description,
        is_shared,
        organization_id,
        status,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        deleted_by,
    }
}

fn missing(what: &str) -> impl FnOnce() -> Status + '_ {
    move || Status::internal(format!("the response has no {what}"))
}

#[derive(Clone)]
pub struct Dids(DidServiceClient<Channel>);

impl Resource for Dids {
    const VALUE_FIELD: &'static str = "number";
    const VALUES_FIELD: &'static str = "numbers";
    const TAKEN_REASON: &'static str = "DID_NUMBER_TAKEN";
    const NOT_FOUND_REASON: &'static str = "DID_NOT_FOUND";
    const UNIQUE_PER_COUNTRY: bool = false;

    fn new(app: &TestApp) -> Self {
        Self(DidServiceClient::new(app.channel.clone()))
    }

    fn value(n: u32) -> String {
        format!("+2125{n:08}")
    }

    fn same_value_spelled_otherwise(value: &str) -> String {
        match value.strip_prefix('+') {
            Some(digits) => digits.to_owned(),
            None => format!("+{value}"),
        }
    }

    fn invalid_values() -> Vec<String> {
        ["", "12", "+", "12a45", "+1 212 555", &"9".repeat(21)]
            .map(String::from)
            .to_vec()
    }

    async fn create(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        description: Option<&str>,
        status: i32,
    ) -> Reply<Record> {
        let request = pb::CreateDidRequest {
            number: value.into(),
            country: country.into(),
            description: description.map(Into::into),
            status,
        };
        let did = self
            .0
            .clone()
            .create_did(who.request(request))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn get(&self, who: &Identity, id: &str) -> Reply<Record> {
        let did = self
            .0
            .clone()
            .get_did(who.request(pb::GetDidRequest { id: id.into() }))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn update(&self, who: &Identity, id: &str, changes: Changes) -> Reply<Record> {
        let Changes {
            value,
            country,
            description,
            status,
        } = changes;
        let request = pb::UpdateDidRequest {
            id: id.into(),
            number: value,
            country,
            description,
            status,
        };
        let did = self
            .0
            .clone()
            .update_did(who.request(request))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn delete(&self, who: &Identity, id: &str) -> Reply<Record> {
        let did = self
            .0
            .clone()
            .delete_did(who.request(pb::DeleteDidRequest { id: id.into() }))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn assign(&self, who: &Identity, id: &str, organization_id: &str) -> Reply<Record> {
        let request = pb::AssignDidRequest {
            id: id.into(),
            organization_id: organization_id.into(),
        };
        let did = self
            .0
            .clone()
            .assign_did(who.request(request))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn unassign(&self, who: &Identity, id: &str) -> Reply<Record> {
        let did = self
            .0
            .clone()
            .unassign_did(who.request(pb::UnassignDidRequest { id: id.into() }))
            .await?
            .into_inner()
            .did;
        did.map(record_of_did).ok_or_else(missing("did"))
    }

    async fn list_stream(&self, who: &Identity, params: ListParams) -> Reply<PageStream<Record>> {
        let ListParams {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            values,
            show_deleted,
            all_pages,
            deadline,
        } = params;
        let mut request = who.request(pb::ListDidsRequest {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            numbers: values,
            show_deleted,
            all_pages,
        });
        if let Some(deadline) = deadline {
            request.set_timeout(deadline);
        }
        let stream = self.0.clone().list_dids(request).await?.into_inner();
        Ok(PageStream::new(stream, |page| Listed {
            data: page.data.into_iter().map(record_of_did).collect(),
            meta: page.meta.expect("every page has its meta"),
        }))
    }

    async fn list_available(
        &self,
        who: &Identity,
        params: AvailableParams,
    ) -> Reply<Vec<Listed<Available>>> {
        let AvailableParams {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
        } = params;
        let request = pb::ListAvailableDidsRequest {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
        };
        let stream = self
            .0
            .clone()
            .list_available_dids(who.request(request))
            .await?
            .into_inner();
        PageStream::new(stream, |page| Listed {
            data: page
                .data
                .into_iter()
                .map(|d| Available {
                    id: d.id,
                    value: d.number,
                    country: d.country,
                    status: d.status,
                    is_shared: d.is_shared,
                })
                .collect(),
            meta: page.meta.expect("every page has its meta"),
        })
        .collect()
        .await
    }

    async fn get_available(
        &self,
        who: &Identity,
        id: &str,
        organization_id: Option<&str>,
    ) -> Reply<Available> {
        let request = pb::GetAvailableDidRequest {
            id: id.into(),
            organization_id: organization_id.map(Into::into),
        };
        let d = self
            .0
            .clone()
            .get_available_did(who.request(request))
            .await?
            .into_inner()
            .available_did
            .ok_or_else(missing("available_did"))?;
        Ok(Available {
            id: d.id,
            value: d.number,
            country: d.country,
            status: d.status,
            is_shared: d.is_shared,
        })
    }
}

#[derive(Clone)]
pub struct SenderIds(SenderIdServiceClient<Channel>);

impl Resource for SenderIds {
    const VALUE_FIELD: &'static str = "sender_id";
    const VALUES_FIELD: &'static str = "sender_ids";
    const TAKEN_REASON: &'static str = "SENDER_ID_TAKEN";
    const NOT_FOUND_REASON: &'static str = "SENDER_ID_NOT_FOUND";
    const UNIQUE_PER_COUNTRY: bool = true;

    fn new(app: &TestApp) -> Self {
        Self(SenderIdServiceClient::new(app.channel.clone()))
    }

    fn value(n: u32) -> String {
        format!("Sender{n:05}")
    }

    fn same_value_spelled_otherwise(value: &str) -> String {
        value.to_ascii_uppercase()
    }

    fn invalid_values() -> Vec<String> {
        ["", "TwelveChars1", "Go Mobile", "ACME!", "Café", "a_b"]
            .map(String::from)
            .to_vec()
    }

    async fn create(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        description: Option<&str>,
        status: i32,
    ) -> Reply<Record> {
        let request = pb::CreateSenderIdRequest {
            sender_id: value.into(),
            country: country.into(),
            description: description.map(Into::into),
            status,
        };
        let sender_id = self
            .0
            .clone()
            .create_sender_id(who.request(request))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn get(&self, who: &Identity, id: &str) -> Reply<Record> {
        let sender_id = self
            .0
            .clone()
            .get_sender_id(who.request(pb::GetSenderIdRequest { id: id.into() }))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn update(&self, who: &Identity, id: &str, changes: Changes) -> Reply<Record> {
        let Changes {
            value,
            country,
            description,
            status,
        } = changes;
        let request = pb::UpdateSenderIdRequest {
            id: id.into(),
            sender_id: value,
            country,
            description,
            status,
        };
        let sender_id = self
            .0
            .clone()
            .update_sender_id(who.request(request))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn delete(&self, who: &Identity, id: &str) -> Reply<Record> {
        let sender_id = self
            .0
            .clone()
            .delete_sender_id(who.request(pb::DeleteSenderIdRequest { id: id.into() }))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn assign(&self, who: &Identity, id: &str, organization_id: &str) -> Reply<Record> {
        let request = pb::AssignSenderIdRequest {
            id: id.into(),
            organization_id: organization_id.into(),
        };
        let sender_id = self
            .0
            .clone()
            .assign_sender_id(who.request(request))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn unassign(&self, who: &Identity, id: &str) -> Reply<Record> {
        let sender_id = self
            .0
            .clone()
            .unassign_sender_id(who.request(pb::UnassignSenderIdRequest { id: id.into() }))
            .await?
            .into_inner()
            .sender_id;
        sender_id
            .map(record_of_sender_id)
            .ok_or_else(missing("sender_id"))
    }

    async fn list_stream(&self, who: &Identity, params: ListParams) -> Reply<PageStream<Record>> {
        let ListParams {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            values,
            show_deleted,
            all_pages,
            deadline,
        } = params;
        let mut request = who.request(pb::ListSenderIdsRequest {
            page,
            limit,
            search,
            sort_by,
            sort_order,
            status,
            is_shared,
            organization_id,
            countries,
            sender_ids: values,
            show_deleted,
            all_pages,
        });
        if let Some(deadline) = deadline {
            request.set_timeout(deadline);
        }
        let stream = self.0.clone().list_sender_ids(request).await?.into_inner();
        Ok(PageStream::new(stream, |page| Listed {
            data: page.data.into_iter().map(record_of_sender_id).collect(),
            meta: page.meta.expect("every page has its meta"),
        }))
    }

    async fn list_available(
        &self,
        who: &Identity,
        params: AvailableParams,
    ) -> Reply<Vec<Listed<Available>>> {
        let AvailableParams {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
        } = params;
        let request = pb::ListAvailableSenderIdsRequest {
            page,
            limit,
            search,
            sort_order,
            organization_id,
            all_pages,
        };
        let stream = self
            .0
            .clone()
            .list_available_sender_ids(who.request(request))
            .await?
            .into_inner();
        PageStream::new(stream, |page| Listed {
            data: page
                .data
                .into_iter()
                .map(|s| Available {
                    id: s.id,
                    value: s.sender_id,
                    country: s.country,
                    status: s.status,
                    is_shared: s.is_shared,
                })
                .collect(),
            meta: page.meta.expect("every page has its meta"),
        })
        .collect()
        .await
    }

    async fn get_available(
        &self,
        who: &Identity,
        id: &str,
        organization_id: Option<&str>,
    ) -> Reply<Available> {
        let request = pb::GetAvailableSenderIdRequest {
            id: id.into(),
            organization_id: organization_id.map(Into::into),
        };
        let s = self
            .0
            .clone()
            .get_available_sender_id(who.request(request))
            .await?
            .into_inner()
            .available_sender_id
            .ok_or_else(missing("available_sender_id"))?;
        Ok(Available {
            id: s.id,
            value: s.sender_id,
            country: s.country,
            status: s.status,
            is_shared: s.is_shared,
        })
    }
}
