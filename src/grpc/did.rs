//! `numbering.v1.DidService`.

use super::adapter::resource_api;
use crate::domain::Did;
use crate::proto::v1::did_service_server::DidService;

resource_api! {
    /// The DID service: DID messages in and out of the shared handlers.
    DidApi serves DidService for Did {
        item: Did { number },
        available: AvailableDid,
        response_field: did,
        sort: DidSortField { Number },
        create: create_did(CreateDidRequest) -> CreateDidResponse,
        get: get_did(GetDidRequest) -> GetDidResponse,
        update: update_did(UpdateDidRequest) -> UpdateDidResponse,
        delete: delete_did(DeleteDidRequest) -> DeleteDidResponse,
        assign: assign_did(AssignDidRequest) -> AssignDidResponse,
        unassign: unassign_did(UnassignDidRequest) -> UnassignDidResponse,
        list: list_dids(ListDidsRequest { numbers }) -> ListDidsStream<ListDidsResponse>,
        list_available: list_available_dids(ListAvailableDidsRequest)
            -> ListAvailableDidsStream<ListAvailableDidsResponse>,
        get_available: get_available_did(GetAvailableDidRequest)
            -> GetAvailableDidResponse { available_did },
    }
}
