//! `numbering.v1.SenderIdService`.

use super::adapter::resource_api;
use crate::domain::SenderId;
use crate::proto::v1::sender_id_service_server::SenderIdService;

resource_api! {
    /// The Sender ID service: Sender ID messages in and out of the shared
    /// handlers.
    SenderIdApi serves SenderIdService for SenderId {
        item: SenderId { sender_id },
        available: AvailableSenderId,
        response_field: sender_id,
        sort: SenderIdSortField { SenderId },
        create: create_sender_id(CreateSenderIdRequest) -> CreateSenderIdResponse,
        get: get_sender_id(GetSenderIdRequest) -> GetSenderIdResponse,
        update: update_sender_id(UpdateSenderIdRequest) -> UpdateSenderIdResponse,
        delete: delete_sender_id(DeleteSenderIdRequest) -> DeleteSenderIdResponse,
        assign: assign_sender_id(AssignSenderIdRequest) -> AssignSenderIdResponse,
        unassign: unassign_sender_id(UnassignSenderIdRequest) -> UnassignSenderIdResponse,
        list: list_sender_ids(ListSenderIdsRequest { sender_ids }) -> ListSenderIdsStream<ListSenderIdsResponse>,
        list_available: list_available_sender_ids(ListAvailableSenderIdsRequest)
            -> ListAvailableSenderIdsStream<ListAvailableSenderIdsResponse>,
        get_available: get_available_sender_id(GetAvailableSenderIdRequest)
            -> GetAvailableSenderIdResponse { available_sender_id },
    }
}
