//! The tonic adapter of one resource kind, stamped out by [`resource_api!`]
//! for DIDs and for Sender IDs.
//!
//! The two services have the same RPCs over messages that differ only in
//! their names and in the identifier field (`number` / `sender_id`), so one
//! macro writes both adapters: each RPC converts its request, calls the
//! shared [`Handlers`](super::handler::Handlers) and wraps the result. Every
//! request and item message is destructured field by field, so that a field
//! added to a proto breaks the build until it is handled here.

macro_rules! resource_api {
    (
        $(#[$doc:meta])*
        $api:ident serves $service:ident for $kind:ident {
            item: $item:ident { $value:ident },
            available: $available:ident,
            response_field: $field:ident,
            sort: $sort:ident { $sort_value:ident },
            create: $create:ident($create_req:ident) -> $create_resp:ident,
            get: $get:ident($get_req:ident) -> $get_resp:ident,
            update: $update:ident($update_req:ident) -> $update_resp:ident,
            delete: $delete:ident($delete_req:ident) -> $delete_resp:ident,
            assign: $assign:ident($assign_req:ident) -> $assign_resp:ident,
            unassign: $unassign:ident($unassign_req:ident) -> $unassign_resp:ident,
            list: $list:ident($list_req:ident { $values:ident }) -> $list_stream:ident<$list_resp:ident>,
            list_available: $list_available:ident($list_available_req:ident)
                -> $list_available_stream:ident<$list_available_resp:ident>,
            get_available: $get_available:ident($get_available_req:ident)
                -> $get_available_resp:ident { $available_field:ident },
        }
    ) => {
        use $crate::domain::{ItemId, SortField};
        use $crate::error::{Error, Result};
        use $crate::grpc::convert::{self, ListFields, WireItem};
        use $crate::grpc::handler::{Handlers, PageStream, RpcResult, Wire};
        use $crate::inventory::{AvailableLookup, AvailableRequest, ListRequest, Write};
        use $crate::proto::v1 as pb;
        use tonic::Request;

        impl Wire for $kind {
            type Message = pb::$item;
            type Available = pb::$available;
        }

        $(#[$doc])*
        pub struct $api(Handlers<$kind>);

        impl $api {
            pub fn new(handlers: Handlers<$kind>) -> Self {
                Self(handlers)
            }
        }

        #[tonic::async_trait]
        impl $service for $api {
            type $list_stream = PageStream<pb::$list_resp>;
            type $list_available_stream = PageStream<pb::$list_available_resp>;

            async fn $create(&self, request: Request<pb::$create_req>) -> RpcResult<pb::$create_resp> {
                self.0.write(request, |item| pb::$create_resp { $field: Some(item) }).await
            }

            async fn $get(&self, request: Request<pb::$get_req>) -> RpcResult<pb::$get_resp> {
                self.0.get(request, |item| pb::$get_resp { $field: Some(item) }).await
            }

            async fn $update(&self, request: Request<pb::$update_req>) -> RpcResult<pb::$update_resp> {
                self.0.write(request, |item| pb::$update_resp { $field: Some(item) }).await
            }

            async fn $delete(&self, request: Request<pb::$delete_req>) -> RpcResult<pb::$delete_resp> {
                self.0.write(request, |item| pb::$delete_resp { $field: Some(item) }).await
            }

            async fn $assign(&self, request: Request<pb::$assign_req>) -> RpcResult<pb::$assign_resp> {
                self.0.write(request, |item| pb::$assign_resp { $field: Some(item) }).await
            }

            async fn $unassign(&self, request: Request<pb::$unassign_req>) -> RpcResult<pb::$unassign_resp> {
                self.0.write(request, |item| pb::$unassign_resp { $field: Some(item) }).await
            }

            async fn $list(&self, request: Request<pb::$list_req>) -> RpcResult<Self::$list_stream> {
                self.0.list(request, |data, meta| pb::$list_resp { data, meta: Some(meta) }).await
            }

            async fn $list_available(
                &self,
                request: Request<pb::$list_available_req>,
            ) -> RpcResult<Self::$list_available_stream> {
                self.0
                    .list_available(request, |data, meta| pb::$list_available_resp { data, meta: Some(meta) })
                    .await
            }

            async fn $get_available(
                &self,
                request: Request<pb::$get_available_req>,
            ) -> RpcResult<pb::$get_available_resp> {
                self.0
                    .get_available(request, |item| pb::$get_available_resp { $available_field: Some(item) })
                    .await
            }
        }

        impl From<WireItem> for pb::$item {
            fn from(item: WireItem) -> Self {
                let WireItem {
                    id,
                    value,
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
                } = item;
                Self {
                    id,
                    $value: value,
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
        }

        impl From<WireItem> for pb::$available {
            fn from(item: WireItem) -> Self {
                let WireItem { id, value, country, status, is_shared, .. } = item;
                Self { id, $value: value, country, status, is_shared }
            }
        }

        impl TryFrom<pb::$create_req> for Write<$kind> {
            type Error = Error;
            fn try_from(request: pb::$create_req) -> Result<Self> {
                let pb::$create_req { $value, country, description, status } = request;
                convert::create(&$value, &country, description.as_deref(), status)
            }
        }

        impl TryFrom<pb::$get_req> for ItemId {
            type Error = Error;
            fn try_from(request: pb::$get_req) -> Result<Self> {
                let pb::$get_req { id } = request;
                convert::item_id(&id)
            }
        }

        impl TryFrom<pb::$update_req> for Write<$kind> {
            type Error = Error;
            fn try_from(request: pb::$update_req) -> Result<Self> {
                let pb::$update_req { id, $value, country, description, status } = request;
                convert::update(&id, $value.as_deref(), country.as_deref(), description.as_deref(), status)
            }
        }

        impl TryFrom<pb::$delete_req> for Write<$kind> {
            type Error = Error;
            fn try_from(request: pb::$delete_req) -> Result<Self> {
                let pb::$delete_req { id } = request;
                Ok(Write::Delete(convert::item_id(&id)?))
            }
        }

        impl TryFrom<pb::$assign_req> for Write<$kind> {
            type Error = Error;
            fn try_from(request: pb::$assign_req) -> Result<Self> {
                let pb::$assign_req { id, organization_id } = request;
                convert::assign(&id, &organization_id)
            }
        }

        impl TryFrom<pb::$unassign_req> for Write<$kind> {
            type Error = Error;
            fn try_from(request: pb::$unassign_req) -> Result<Self> {
                let pb::$unassign_req { id } = request;
                Ok(Write::Unassign(convert::item_id(&id)?))
            }
        }

        impl TryFrom<pb::$list_req> for ListRequest<$kind> {
            type Error = Error;
            fn try_from(request: pb::$list_req) -> Result<Self> {
                let pb::$list_req {
                    page,
                    limit,
                    search,
                    sort_by,
                    sort_order,
                    status,
                    is_shared,
                    organization_id,
                    countries,
                    $values,
                    show_deleted,
                    all_pages,
                } = request;
                convert::list_request(ListFields {
                    page,
                    limit,
                    search: &search,
                    sort_by: sort_field(sort_by)?,
                    sort_order,
                    status,
                    is_shared,
                    organization_id: organization_id.as_deref(),
                    countries: &countries,
                    values: &$values,
                    show_deleted,
                    all_pages,
                })
            }
        }

        fn sort_field(value: i32) -> Result<SortField> {
            match pb::$sort::try_from(value) {
                Ok(pb::$sort::Unspecified | pb::$sort::CreatedAt) => Ok(SortField::CreatedAt),
                Ok(pb::$sort::$sort_value) => Ok(SortField::Value),
                Ok(pb::$sort::Country) => Ok(SortField::Country),
                Ok(pb::$sort::Status) => Ok(SortField::Status),
                Err(_) => Err(convert::unknown_enum("sort_by", value)),
            }
        }

        impl TryFrom<pb::$list_available_req> for AvailableRequest {
            type Error = Error;
            fn try_from(request: pb::$list_available_req) -> Result<Self> {
                let pb::$list_available_req { page, limit, search, sort_order, organization_id, all_pages } =
                    request;
                convert::available_request(page, limit, &search, sort_order, organization_id.as_deref(), all_pages)
            }
        }

        impl TryFrom<pb::$get_available_req> for AvailableLookup {
            type Error = Error;
            fn try_from(request: pb::$get_available_req) -> Result<Self> {
                let pb::$get_available_req { id, organization_id } = request;
                convert::available_lookup(&id, organization_id.as_deref())
            }
        }
    };
}

pub(crate) use resource_api;
