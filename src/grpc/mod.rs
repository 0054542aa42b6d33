//! The gRPC edge: proto ⇄ domain conversions and the thin RPC methods of the
//! two services.

pub(crate) mod adapter;
mod api;
mod convert;
pub(crate) mod deadline;
mod did;
mod fields;
#[cfg(test)]
mod fuzz;
mod sender_id;

pub use api::Api;
pub use did::DidApi;
pub use sender_id::SenderIdApi;
