//! Arbitrary bytes as every RPC's request: decoding and conversion never
//! panic, and every refusal is the client's fault (`INVALID_ARGUMENT`, or a
//! decode error the edge restates as `MALFORMED_REQUEST`). The bytes are
//! protobuf-shaped (fields of any tag, wire type and payload) so that most
//! of them decode and reach the conversions with odd values.
//!
//! `cargo test fuzz` runs a short round; `PROPTEST_CASES=1000000 cargo test
//! --release --lib fuzz` the long one.

use crate::domain::ItemId;
use crate::edge::guard::client_fault;
use crate::error::Error;
use crate::proto::v1 as pb;
use crate::service::{
    AsOfRequest, AssignmentRequest, AvailableLookup, AvailableRequest, CreateRequest,
    HistoryRequest, ItemUpdate, ItemWrite, ListRequest, WatchRequest,
};
use proptest::prelude::*;
use prost::Message;
use tonic::{Code, Status};

/// One protobuf field: a tag, a wire type and a payload, encoded.
fn field() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        "[+0-9A-Za-z%_!\\\\\\x00 ]{0,24}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..24),
    ];
    (0u64..20, 0u64..8, any::<u64>(), payload).prop_map(|(tag, wire_type, number, payload)| {
        let mut bytes = Vec::new();
        prost::encoding::encode_varint(tag << 3 | wire_type, &mut bytes);
        match wire_type {
            0 => prost::encoding::encode_varint(number, &mut bytes),
            1 => bytes.extend_from_slice(&number.to_le_bytes()),
            5 => bytes.extend_from_slice(&(number as u32).to_le_bytes()),
            2 => {
                prost::encoding::encode_varint(payload.len() as u64, &mut bytes);
                bytes.extend_from_slice(&payload);
            }
            _ => bytes.extend_from_slice(&payload), // invalid or groups
        }
        bytes
    })
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(field(), 0..8).prop_map(|fields| fields.concat()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Decodes `bytes` as `M` and converts it to `T`, checking that whatever
/// fails is the client's fault.
fn check<M, T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    M: Message + Default + TryInto<T, Error = Error>,
{
    match M::decode(bytes) {
        Ok(request) => {
            if let Err(error) = request.try_into() {
                let status = Status::from(error);
                prop_assert_eq!(status.code(), Code::InvalidArgument, "{:?}", status);
            }
        }
        Err(decode) => {
            // As tonic-prost reports it; the edge must recognise it.
            let reported = Status::internal(decode.to_string());
            prop_assert!(client_fault(&reported).is_some(), "{}", decode);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn fuzz_every_request_decodes_and_converts_or_is_the_clients_fault(bytes in message()) {
        use crate::domain::{Did, SenderId};
        check::<pb::CreateDidRequest, CreateRequest<Did>>(&bytes)?;
        check::<pb::GetDidRequest, ItemId>(&bytes)?;
        check::<pb::UpdateDidRequest, ItemUpdate<Did>>(&bytes)?;
        check::<pb::DeleteDidRequest, ItemWrite>(&bytes)?;
        check::<pb::AssignDidRequest, AssignmentRequest>(&bytes)?;
        check::<pb::UnassignDidRequest, ItemWrite>(&bytes)?;
        check::<pb::ListDidsRequest, ListRequest<Did>>(&bytes)?;
        check::<pb::ListAvailableDidsRequest, AvailableRequest>(&bytes)?;
        check::<pb::GetAvailableDidRequest, AvailableLookup>(&bytes)?;
        check::<pb::ListDidHistoryRequest, HistoryRequest>(&bytes)?;
        check::<pb::GetDidAsOfRequest, AsOfRequest<Did>>(&bytes)?;
        check::<pb::WatchDidsRequest, WatchRequest>(&bytes)?;
        check::<pb::CreateSenderIdRequest, CreateRequest<SenderId>>(&bytes)?;
        check::<pb::GetSenderIdRequest, ItemId>(&bytes)?;
        check::<pb::UpdateSenderIdRequest, ItemUpdate<SenderId>>(&bytes)?;
        check::<pb::DeleteSenderIdRequest, ItemWrite>(&bytes)?;
        check::<pb::AssignSenderIdRequest, AssignmentRequest>(&bytes)?;
        check::<pb::UnassignSenderIdRequest, ItemWrite>(&bytes)?;
        check::<pb::ListSenderIdsRequest, ListRequest<SenderId>>(&bytes)?;
        check::<pb::ListAvailableSenderIdsRequest, AvailableRequest>(&bytes)?;
        check::<pb::GetAvailableSenderIdRequest, AvailableLookup>(&bytes)?;
        check::<pb::ListSenderIdHistoryRequest, HistoryRequest>(&bytes)?;
        check::<pb::GetSenderIdAsOfRequest, AsOfRequest<SenderId>>(&bytes)?;
        check::<pb::WatchSenderIdsRequest, WatchRequest>(&bytes)?;
        if let Err(decode) = tonic_health::pb::HealthCheckRequest::decode(bytes.as_slice()) {
            prop_assert!(client_fault(&Status::internal(decode.to_string())).is_some());
        }
    }
}
