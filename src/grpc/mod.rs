//! The gRPC edge: per-kind adapters over shared handlers and conversions.

mod adapter;
mod convert;
mod deadline;
mod did;
#[cfg(test)]
mod fuzz;
mod handler;
mod sender_id;

pub use did::DidApi;
pub use handler::Handlers;
pub use sender_id::SenderIdApi;
