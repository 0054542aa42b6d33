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
    pub etag: String,
    pub hold: Option<pb::Hold>,
    /// DIDs only.
    pub aging_expire_time: Option<prost_types::Timestamp>,
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
    /// The page's meta, but for its token, which is `next_page_token`, and
    /// its revision, which is `revision`.
    pub meta: pb::PaginationMeta,
    pub next_page_token: String,
    pub revision: i64,
}

/// A page's meta, its token and its revision, apart.
fn split_meta(meta: Option<pb::PaginationMeta>) -> (pb::PaginationMeta, String, i64) {
    let mut meta = meta.expect("every page has its meta");
    let token = std::mem::take(&mut meta.next_page_token);
    let revision = std::mem::take(&mut meta.revision);
    (meta, token, revision)
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
    pub page_token: String,
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
    pub page_token: String,
}

#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub value: Option<String>,
    pub country: Option<String>,
    pub description: Option<String>,
    pub status: Option<i32>,
}

/// The `etag` and `request_id` of a write (empty: none).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub etag: String,
    pub request_id: String,
}

impl WriteOptions {
    pub fn request_id(request_id: &str) -> Self {
        Self {
            request_id: request_id.into(),
            ..Self::default()
        }
    }

    pub fn etag(etag: &str) -> Self {
        Self {
            etag: etag.into(),
            ..Self::default()
        }
    }
}

/// One row of an import, as its Create call would take it.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    pub value: String,
    pub country: String,
    pub description: Option<String>,
    pub status: i32,
    pub request_id: String,
}

impl ImportRow {
    pub fn new(value: &str, country: &str) -> Self {
        Self {
            value: value.into(),
            country: country.into(),
            ..Self::default()
        }
    }
}

/// One entry of an item's history.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    pub revision: i64,
    /// `ChangeType` as on the wire: 1 created … 6 unassigned.
    pub change_type: i32,
    pub time: Option<prost_types::Timestamp>,
    pub user_id: Option<String>,
    pub item: Record,
}

#[derive(Debug, Clone, Default)]
pub struct WatchParams {
    pub start_revision: i64,
    pub send_initial_state: bool,
    pub organization_id: Option<String>,
    pub countries: Vec<String>,
}

/// One event of a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// `EventType` as on the wire: 1 added, 2 modified, 3 removed.
    pub event_type: i32,
    pub revision: i64,
    pub item: Record,
}

/// One message of a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchMessage {
    pub events: Vec<EventRecord>,
    pub revision: i64,
    pub initial_state_complete: bool,
}

/// An open watch; dropping it cancels the call.
pub struct WatchStream(Pin<Box<dyn Stream<Item = Reply<WatchMessage>> + Send>>);

impl WatchStream {
    /// The next message, `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Reply<WatchMessage>> {
        self.0.next().await
    }

    /// The next message within `wait`, failing the test otherwise.
    pub async fn within(&mut self, wait: std::time::Duration) -> Reply<WatchMessage> {
        tokio::time::timeout(wait, self.next())
            .await
            .expect("a watch message within the wait")
            .expect("the watch is still open")
    }
}

type Reply<T> = Result<T, Status>;

/// What tells the two kinds apart in the tests: names, reasons, and sample
/// identifiers.
pub trait Samples {
    /// As in the RPC names: `CreateDid`, `ListDids`.
    const SINGULAR: &'static str;
    const PLURAL: &'static str;
    const VALUE_FIELD: &'static str;
    const VALUES_FIELD: &'static str;
    const TAKEN_REASON: &'static str;
    const NOT_FOUND_REASON: &'static str;
    const UNIQUE_PER_COUNTRY: bool;

    /// A valid identifier, distinct for each `n`.
    fn value(n: u32) -> String;
    /// Another spelling the service must take for the same identifier.
    fn same_value_spelled_otherwise(value: &str) -> String;
    /// Identifiers the service must refuse.
    fn invalid_values() -> Vec<String>;
}

/// The RPCs of either service, with normalized records.
pub trait Resource: Samples + Clone + Send + Sync + 'static {
    /// The client of a server reached over `channel`.
    fn over(channel: Channel) -> Self;

    fn new(app: &TestApp) -> Self {
        Self::over(app.channel.clone())
    }

    fn create(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        description: Option<&str>,
        status: i32,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn get(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send;
    fn create_with(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        request_id: &str,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn update_with(
        &self,
        who: &Identity,
        id: &str,
        changes: Changes,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn delete_with(
        &self,
        who: &Identity,
        id: &str,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn assign_with(
        &self,
        who: &Identity,
        id: &str,
        organization_id: &str,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn unassign_with(
        &self,
        who: &Identity,
        id: &str,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    /// Every page of an item's history.
    fn history(
        &self,
        who: &Identity,
        id: &str,
        page: u32,
        limit: u32,
        all_pages: bool,
    ) -> impl Future<Output = Reply<Vec<Listed<ChangeRecord>>>> + Send;
    /// `Get…AsOf`; `country` is used by Sender IDs only.
    fn as_of(
        &self,
        who: &Identity,
        value: &str,
        country: &str,
        time: prost_types::Timestamp,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn hold_with(
        &self,
        who: &Identity,
        id: &str,
        organization_id: &str,
        ttl: Option<prost_types::Duration>,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn release_with(
        &self,
        who: &Identity,
        id: &str,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    fn undelete_with(
        &self,
        who: &Identity,
        id: &str,
        options: WriteOptions,
    ) -> impl Future<Output = Reply<Record>> + Send;
    /// Sends each batch (rows, atomic) on one import stream; the answers
    /// to each, in order.
    fn import(
        &self,
        who: &Identity,
        batches: Vec<(Vec<ImportRow>, bool)>,
    ) -> impl Future<Output = Reply<Vec<Vec<pb::ImportRowResult>>>> + Send;
    fn hold(
        &self,
        who: &Identity,
        id: &str,
        organization_id: &str,
    ) -> impl Future<Output = Reply<Record>> + Send {
        self.hold_with(who, id, organization_id, None, WriteOptions::default())
    }
    fn release(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send {
        self.release_with(who, id, WriteOptions::default())
    }
    fn undelete(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send {
        self.undelete_with(who, id, WriteOptions::default())
    }
    fn watch(
        &self,
        who: &Identity,
        params: WatchParams,
    ) -> impl Future<Output = Reply<WatchStream>> + Send;

    fn update(
        &self,
        who: &Identity,
        id: &str,
        changes: Changes,
    ) -> impl Future<Output = Reply<Record>> + Send {
        self.update_with(who, id, changes, WriteOptions::default())
    }
    fn delete(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send {
        self.delete_with(who, id, WriteOptions::default())
    }
    fn assign(
        &self,
        who: &Identity,
        id: &str,
        organization_id: &str,
    ) -> impl Future<Output = Reply<Record>> + Send {
        self.assign_with(who, id, organization_id, WriteOptions::default())
    }
    fn unassign(&self, who: &Identity, id: &str) -> impl Future<Output = Reply<Record>> + Send {
        self.unassign_with(who, id, WriteOptions::default())
    }
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

fn missing(what: &str) -> impl FnOnce() -> Status + '_ {
    move || Status::internal(format!("the response has no {what}"))
}

/// Implements [`Resource`] over one service's generated client. The two
/// services differ only in message names and the identifier field.
macro_rules! resource_client {
    (
        $name:ident($client:ident) {
            item: $item:ident { $value:ident },
            available: $available:ident,
            response_field: $field:ident,
            create: $create:ident($create_req:ident),
            get: $get:ident($get_req:ident),
            update: $update:ident($update_req:ident),
            delete: $delete:ident($delete_req:ident),
            assign: $assign:ident($assign_req:ident),
            unassign: $unassign:ident($unassign_req:ident),
            list: $list:ident($list_req:ident { $values:ident }),
            list_available: $list_available:ident($list_available_req:ident),
            get_available: $get_available:ident($get_available_req:ident { $available_field:ident }),
            history: $history:ident($history_req:ident),
            as_of: $as_of:ident($as_of_req:ident),
            watch: $watch:ident($watch_req:ident),
            hold: $hold:ident($hold_req:ident),
            release: $release:ident($release_req:ident),
            undelete: $undelete:ident($undelete_req:ident),
            import: $import:ident($import_req:ident),
        }
    ) => {
        #[derive(Clone)]
        pub struct $name($client<Channel>);

        impl $name {
            fn record(item: Option<pb::$item>) -> Reply<Record> {
                let item = item.ok_or_else(missing(stringify!($field)))?;
                let aging_expire_time = AgingOf::aging_expire_time(&item);
                let pb::$item {
                    id,
                    $value,
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
                    etag,
                    hold,
                    ..
                } = item;
                Ok(Record {
                    id,
                    value: $value,
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
                    etag,
                    hold,
                    aging_expire_time,
                })
            }

            /// The underlying client, for the RPCs of one kind only (Sender
            /// IDs have none yet).
            #[allow(dead_code)]
            pub fn client(&self) -> $client<Channel> {
                self.0.clone()
            }

            fn available(item: pb::$available) -> Available {
                let pb::$available {
                    id,
                    $value,
                    country,
                    status,
                    is_shared,
                } = item;
                Available {
                    id,
                    value: $value,
                    country,
                    status,
                    is_shared,
                }
            }
        }

        impl Resource for $name {
            fn over(channel: Channel) -> Self {
                Self($client::new(channel))
            }

            async fn create(
                &self,
                who: &Identity,
                value: &str,
                country: &str,
                description: Option<&str>,
                status: i32,
            ) -> Reply<Record> {
                let request = pb::$create_req {
                    $value: value.into(),
                    country: country.into(),
                    description: description.map(Into::into),
                    status,
                    request_id: String::new(),
                };
                Self::record(
                    self.0
                        .clone()
                        .$create(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn create_with(
                &self,
                who: &Identity,
                value: &str,
                country: &str,
                request_id: &str,
            ) -> Reply<Record> {
                let request = pb::$create_req {
                    $value: value.into(),
                    country: country.into(),
                    description: None,
                    status: 0,
                    request_id: request_id.into(),
                };
                Self::record(
                    self.0
                        .clone()
                        .$create(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn get(&self, who: &Identity, id: &str) -> Reply<Record> {
                let request = pb::$get_req { id: id.into() };
                Self::record(
                    self.0
                        .clone()
                        .$get(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn update_with(
                &self,
                who: &Identity,
                id: &str,
                changes: Changes,
                options: WriteOptions,
            ) -> Reply<Record> {
                let Changes {
                    value,
                    country,
                    description,
                    status,
                } = changes;
                let request = pb::$update_req {
                    id: id.into(),
                    $value: value,
                    country,
                    description,
                    status,
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$update(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn delete_with(
                &self,
                who: &Identity,
                id: &str,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$delete_req {
                    id: id.into(),
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$delete(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn assign_with(
                &self,
                who: &Identity,
                id: &str,
                organization_id: &str,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$assign_req {
                    id: id.into(),
                    organization_id: organization_id.into(),
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$assign(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn unassign_with(
                &self,
                who: &Identity,
                id: &str,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$unassign_req {
                    id: id.into(),
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$unassign(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn list_stream(
                &self,
                who: &Identity,
                params: ListParams,
            ) -> Reply<PageStream<Record>> {
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
                    page_token,
                    deadline,
                } = params;
                let mut request = who.request(pb::$list_req {
                    page,
                    limit,
                    search,
                    sort_by,
                    sort_order,
                    status,
                    is_shared,
                    organization_id,
                    countries,
                    $values: values,
                    show_deleted,
                    all_pages,
                    page_token,
                });
                if let Some(deadline) = deadline {
                    request.set_timeout(deadline);
                }
                let stream = self.0.clone().$list(request).await?.into_inner();
                Ok(PageStream::new(stream, |page| {
                    let (meta, next_page_token, revision) = split_meta(page.meta);
                    Listed {
                        data: page
                            .data
                            .into_iter()
                            .map(|item| Self::record(Some(item)).unwrap())
                            .collect(),
                        meta,
                        next_page_token,
                        revision,
                    }
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
                    page_token,
                } = params;
                let request = pb::$list_available_req {
                    page,
                    limit,
                    search,
                    sort_order,
                    organization_id,
                    all_pages,
                    page_token,
                };
                let stream = self
                    .0
                    .clone()
                    .$list_available(who.request(request))
                    .await?
                    .into_inner();
                PageStream::new(stream, |page| {
                    let (meta, next_page_token, revision) = split_meta(page.meta);
                    Listed {
                        data: page.data.into_iter().map(Self::available).collect(),
                        meta,
                        next_page_token,
                        revision,
                    }
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
                let request = pb::$get_available_req {
                    id: id.into(),
                    organization_id: organization_id.map(Into::into),
                };
                let response = self
                    .0
                    .clone()
                    .$get_available(who.request(request))
                    .await?
                    .into_inner();
                Ok(Self::available(
                    response
                        .$available_field
                        .ok_or_else(missing(stringify!($available_field)))?,
                ))
            }

            async fn history(
                &self,
                who: &Identity,
                id: &str,
                page: u32,
                limit: u32,
                all_pages: bool,
            ) -> Reply<Vec<Listed<ChangeRecord>>> {
                let request = pb::$history_req {
                    id: id.into(),
                    page,
                    limit,
                    all_pages,
                };
                let stream = self
                    .0
                    .clone()
                    .$history(who.request(request))
                    .await?
                    .into_inner();
                PageStream::new(stream, |page| {
                    let (meta, next_page_token, revision) = split_meta(page.meta);
                    let data = page.data.into_iter().map(|change| ChangeRecord {
                        revision: change.revision,
                        change_type: change.r#type,
                        time: change.time,
                        user_id: change.user_id,
                        item: Self::record(change.$field).unwrap(),
                    });
                    Listed {
                        data: data.collect(),
                        meta,
                        next_page_token,
                        revision,
                    }
                })
                .collect()
                .await
            }

            async fn as_of(
                &self,
                who: &Identity,
                value: &str,
                country: &str,
                time: prost_types::Timestamp,
            ) -> Reply<Record> {
                let request = as_of_request!($as_of_req, $value, value, country, time);
                Self::record(
                    self.0
                        .clone()
                        .$as_of(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn hold_with(
                &self,
                who: &Identity,
                id: &str,
                organization_id: &str,
                ttl: Option<prost_types::Duration>,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$hold_req {
                    id: id.into(),
                    organization_id: organization_id.into(),
                    ttl,
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$hold(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn release_with(
                &self,
                who: &Identity,
                id: &str,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$release_req {
                    id: id.into(),
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$release(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn undelete_with(
                &self,
                who: &Identity,
                id: &str,
                options: WriteOptions,
            ) -> Reply<Record> {
                let request = pb::$undelete_req {
                    id: id.into(),
                    etag: options.etag,
                    request_id: options.request_id,
                };
                Self::record(
                    self.0
                        .clone()
                        .$undelete(who.request(request))
                        .await?
                        .into_inner()
                        .$field,
                )
            }

            async fn import(
                &self,
                who: &Identity,
                batches: Vec<(Vec<ImportRow>, bool)>,
            ) -> Reply<Vec<Vec<pb::ImportRowResult>>> {
                let messages = batches.into_iter().map(|(rows, atomic)| pb::$import_req {
                    rows: rows
                        .into_iter()
                        .map(|row| pb::$create_req {
                            $value: row.value,
                            country: row.country,
                            description: row.description,
                            status: row.status,
                            request_id: row.request_id,
                        })
                        .collect(),
                    atomic,
                });
                let mut replies = self
                    .0
                    .clone()
                    .$import(who.request(futures::stream::iter(messages.collect::<Vec<_>>())))
                    .await?
                    .into_inner();
                let mut answers = Vec::new();
                while let Some(reply) = replies.message().await? {
                    answers.push(reply.results);
                }
                Ok(answers)
            }

            async fn watch(&self, who: &Identity, params: WatchParams) -> Reply<WatchStream> {
                let WatchParams {
                    start_revision,
                    send_initial_state,
                    organization_id,
                    countries,
                } = params;
                let request = pb::$watch_req {
                    start_revision,
                    send_initial_state,
                    organization_id,
                    countries,
                };
                let stream = self
                    .0
                    .clone()
                    .$watch(who.request(request))
                    .await?
                    .into_inner();
                Ok(WatchStream(Box::pin(stream.map(|message| {
                    message.map(|message| WatchMessage {
                        events: message
                            .events
                            .into_iter()
                            .map(|event| EventRecord {
                                event_type: event.r#type,
                                revision: event.revision,
                                item: Self::record(event.$field).unwrap(),
                            })
                            .collect(),
                        revision: message.revision,
                        initial_state_complete: message.initial_state_complete,
                    })
                }))))
            }
        }
    };
}

/// The rest a DID takes; Sender IDs have none.
trait AgingOf {
    fn aging_expire_time(&self) -> Option<prost_types::Timestamp>;
}

impl AgingOf for pb::Did {
    fn aging_expire_time(&self) -> Option<prost_types::Timestamp> {
        self.aging_expire_time
    }
}

impl AgingOf for pb::SenderId {
    fn aging_expire_time(&self) -> Option<prost_types::Timestamp> {
        None
    }
}

/// `Get…AsOf` requests: Sender IDs also name the country.
macro_rules! as_of_request {
    (GetDidAsOfRequest, $value:ident, $given:expr, $country:expr, $time:expr) => {{
        let _ = $country;
        pb::GetDidAsOfRequest {
            $value: $given.into(),
            time: Some($time),
        }
    }};
    (GetSenderIdAsOfRequest, $value:ident, $given:expr, $country:expr, $time:expr) => {
        pb::GetSenderIdAsOfRequest {
            $value: $given.into(),
            country: $country.into(),
            time: Some($time),
        }
    };
}

resource_client! {
    Dids(DidServiceClient) {
        item: Did { number },
        available: AvailableDid,
        response_field: did,
        create: create_did(CreateDidRequest),
        get: get_did(GetDidRequest),
        update: update_did(UpdateDidRequest),
        delete: delete_did(DeleteDidRequest),
        assign: assign_did(AssignDidRequest),
        unassign: unassign_did(UnassignDidRequest),
        list: list_dids(ListDidsRequest { numbers }),
        list_available: list_available_dids(ListAvailableDidsRequest),
        get_available: get_available_did(GetAvailableDidRequest { available_did }),
        history: list_did_history(ListDidHistoryRequest),
        as_of: get_did_as_of(GetDidAsOfRequest),
        watch: watch_dids(WatchDidsRequest),
        hold: hold_did(HoldDidRequest),
        release: release_did_hold(ReleaseDidHoldRequest),
        undelete: undelete_did(UndeleteDidRequest),
        import: import_dids(ImportDidsRequest),
    }
}

resource_client! {
    SenderIds(SenderIdServiceClient) {
        item: SenderId { sender_id },
        available: AvailableSenderId,
        response_field: sender_id,
        create: create_sender_id(CreateSenderIdRequest),
        get: get_sender_id(GetSenderIdRequest),
        update: update_sender_id(UpdateSenderIdRequest),
        delete: delete_sender_id(DeleteSenderIdRequest),
        assign: assign_sender_id(AssignSenderIdRequest),
        unassign: unassign_sender_id(UnassignSenderIdRequest),
        list: list_sender_ids(ListSenderIdsRequest { sender_ids }),
        list_available: list_available_sender_ids(ListAvailableSenderIdsRequest),
        get_available: get_available_sender_id(GetAvailableSenderIdRequest { available_sender_id }),
        history: list_sender_id_history(ListSenderIdHistoryRequest),
        as_of: get_sender_id_as_of(GetSenderIdAsOfRequest),
        watch: watch_sender_ids(WatchSenderIdsRequest),
        hold: hold_sender_id(HoldSenderIdRequest),
        release: release_sender_id_hold(ReleaseSenderIdHoldRequest),
        undelete: undelete_sender_id(UndeleteSenderIdRequest),
        import: import_sender_ids(ImportSenderIdsRequest),
    }
}

impl Samples for Dids {
    const SINGULAR: &'static str = "Did";
    const PLURAL: &'static str = "Dids";
    const VALUE_FIELD: &'static str = "number";
    const VALUES_FIELD: &'static str = "numbers";
    const TAKEN_REASON: &'static str = "DID_NUMBER_TAKEN";
    const NOT_FOUND_REASON: &'static str = "DID_NOT_FOUND";
    const UNIQUE_PER_COUNTRY: bool = false;

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
}

impl Samples for SenderIds {
    const SINGULAR: &'static str = "SenderId";
    const PLURAL: &'static str = "SenderIds";
    const VALUE_FIELD: &'static str = "sender_id";
    const VALUES_FIELD: &'static str = "sender_ids";
    const TAKEN_REASON: &'static str = "SENDER_ID_TAKEN";
    const NOT_FOUND_REASON: &'static str = "SENDER_ID_NOT_FOUND";
    const UNIQUE_PER_COUNTRY: bool = true;

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
}
