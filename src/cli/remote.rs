//! The two services as the bulk commands use them: the same calls over
//! each generated client, rows in and out as plain strings.

use crate::proto::v1 as pb;
use crate::proto::v1::did_service_client::DidServiceClient;
use crate::proto::v1::sender_id_service_client::SenderIdServiceClient;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use std::future::Future;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// One row to create, as its Create call takes it.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub value: String,
    pub country: String,
    pub description: Option<String>,
    pub status: i32,
}

impl NewRow {
    /// About the bytes it takes in a message (each field's length and
    /// tag, and the row's own).
    pub fn encoded_len(&self) -> usize {
        let text = self.value.len() + self.country.len();
        let description = self.description.as_ref().map_or(0, |d| d.len() + 3);
        text + description + 16
    }
}

/// A page of an export: each item as the values of `Remote::COLUMNS`, and
/// how many items the export has in all.
pub struct ExportPage {
    pub rows: Vec<Vec<String>>,
    pub total: u64,
}

pub trait Remote: Clone + Send + Sync + 'static {
    /// What the items are called: "DIDs", "Sender IDs".
    const LABEL: &'static str;
    /// The identifier's CSV column.
    const VALUE_COLUMN: &'static str;
    /// The columns of an export, in order.
    const COLUMNS: &'static [&'static str];

    fn new(channel: Channel) -> Self;

    /// An import: batches of (rows, atomic) in, each batch's results out.
    fn import(
        &self,
        token: Option<&str>,
        batches: impl Stream<Item = (Vec<NewRow>, bool)> + Send + 'static,
    ) -> impl Future<
        Output = Result<BoxStream<'static, Result<Vec<pb::ImportRowResult>, Status>>, Status>,
    > + Send;

    fn assign(
        &self,
        token: Option<&str>,
        id: String,
        organization_id: String,
    ) -> impl Future<Output = Result<(), Status>> + Send;

    /// Every live item, oldest first, page by page.
    fn export(
        &self,
        token: Option<&str>,
    ) -> impl Future<Output = Result<BoxStream<'static, Result<ExportPage, Status>>, Status>> + Send;
}

/// `message` with the bearer token, if there is one.
fn authorized<T>(token: Option<&str>, message: T) -> Result<Request<T>, Status> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        let value = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| Status::unauthenticated("NUMBERING_TOKEN is not a valid header value"))?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(request)
}

fn time(at: Option<prost_types::Timestamp>) -> String {
    at.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

/// A status as the CSV spells it.
pub fn status_name(status: i32) -> String {
    match pb::Status::try_from(status) {
        Ok(pb::Status::Active) => "active",
        Ok(pb::Status::Inactive) => "inactive",
        Ok(pb::Status::Reserved) => "reserved",
        _ => "",
    }
    .to_owned()
}

/// A status the CSV gives: a name in any case (`active`, `STATUS_ACTIVE`),
/// or empty for the default.
pub fn parse_status(text: &str) -> Result<i32, String> {
    let name = text.trim().to_ascii_lowercase();
    let name = name.strip_prefix("status_").unwrap_or(&name);
    Ok(match name {
        "" => pb::Status::Unspecified,
        "active" => pb::Status::Active,
        "inactive" => pb::Status::Inactive,
        "reserved" => pb::Status::Reserved,
        _ => {
            return Err(format!(
                "status: {text:?} is not active, inactive or reserved"
            ));
        }
    } as i32)
}

macro_rules! remote {
    (
        $client:ident {
            label: $label:literal,
            value: $value:ident,
            columns: $columns:expr,
            item: $item:ident,
            create: $create:ident,
            import: $import:ident($import_req:ident),
            assign: $assign:ident($assign_req:ident),
            list: $list:ident($list_req:ident),
            row: $row:expr,
        }
    ) => {
        impl Remote for $client<Channel> {
            const LABEL: &'static str = $label;
            const VALUE_COLUMN: &'static str = stringify!($value);
            const COLUMNS: &'static [&'static str] = $columns;

            fn new(channel: Channel) -> Self {
                // An import message is up to 1000 rows of up to ~600 bytes.
                $client::new(channel).max_decoding_message_size(16 * 1024 * 1024)
            }

            async fn import(
                &self,
                token: Option<&str>,
                batches: impl Stream<Item = (Vec<NewRow>, bool)> + Send + 'static,
            ) -> Result<BoxStream<'static, Result<Vec<pb::ImportRowResult>, Status>>, Status> {
                let messages = batches.map(|(rows, atomic)| pb::$import_req {
                    rows: rows
                        .into_iter()
                        .map(|row| pb::$create {
                            $value: row.value,
                            country: row.country,
                            description: row.description,
                            status: row.status,
                            request_id: String::new(),
                        })
                        .collect(),
                    atomic,
                });
                let replies = self
                    .clone()
                    .$import(authorized(token, messages)?)
                    .await?
                    .into_inner();
                Ok(replies
                    .map(|reply| reply.map(|reply| reply.results))
                    .boxed())
            }

            async fn assign(
                &self,
                token: Option<&str>,
                id: String,
                organization_id: String,
            ) -> Result<(), Status> {
                let request = pb::$assign_req {
                    id,
                    organization_id,
                    ..Default::default()
                };
                self.clone()
                    .$assign(authorized(token, request)?)
                    .await
                    .map(drop)
            }

            async fn export(
                &self,
                token: Option<&str>,
            ) -> Result<BoxStream<'static, Result<ExportPage, Status>>, Status> {
                let request = pb::$list_req {
                    limit: 100,
                    all_pages: true,
                    sort_order: pb::SortOrder::Asc as i32,
                    ..Default::default()
                };
                let pages = self
                    .clone()
                    .$list(authorized(token, request)?)
                    .await?
                    .into_inner();
                Ok(pages
                    .map(|page| {
                        page.map(|page| ExportPage {
                            total: page.meta.map_or(0, |meta| u64::from(meta.total)),
                            rows: page.data.into_iter().map($row).collect(),
                        })
                    })
                    .boxed())
            }
        }
    };
}

remote! {
    DidServiceClient {
        label: "DIDs",
        value: number,
        columns: &[
            "id", "number", "country", "description", "status", "is_shared", "organization_id",
            "hold_organization_id", "hold_expire_time", "aging_expire_time", "created_at",
            "created_by", "updated_at", "updated_by", "etag",
        ],
        item: Did,
        create: CreateDidRequest,
        import: import_dids(ImportDidsRequest),
        assign: assign_did(AssignDidRequest),
        list: list_dids(ListDidsRequest),
        row: |did: pb::Did| {
            let hold = did.hold.unwrap_or_default();
            vec![
                did.id,
                did.number,
                did.country,
                did.description.unwrap_or_default(),
                status_name(did.status),
                did.is_shared.to_string(),
                did.organization_id.unwrap_or_default(),
                hold.organization_id,
                time(hold.expire_time),
                time(did.aging_expire_time),
                time(did.created_at),
                did.created_by.unwrap_or_default(),
                time(did.updated_at),
                did.updated_by.unwrap_or_default(),
                did.etag,
            ]
        },
    }
}

remote! {
    SenderIdServiceClient {
        label: "Sender IDs",
        value: sender_id,
        columns: &[
            "id", "sender_id", "country", "description", "status", "is_shared",
            "organization_id", "hold_organization_id", "hold_expire_time", "created_at",
            "created_by", "updated_at", "updated_by", "etag",
        ],
        item: SenderId,
        create: CreateSenderIdRequest,
        import: import_sender_ids(ImportSenderIdsRequest),
        assign: assign_sender_id(AssignSenderIdRequest),
        list: list_sender_ids(ListSenderIdsRequest),
        row: |item: pb::SenderId| {
            let hold = item.hold.unwrap_or_default();
            vec![
                item.id,
                item.sender_id,
                item.country,
                item.description.unwrap_or_default(),
                status_name(item.status),
                item.is_shared.to_string(),
                item.organization_id.unwrap_or_default(),
                hold.organization_id,
                time(hold.expire_time),
                time(item.created_at),
                item.created_by.unwrap_or_default(),
                time(item.updated_at),
                item.updated_by.unwrap_or_default(),
                item.etag,
            ]
        },
    }
}
