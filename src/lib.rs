//! numbering: the inventory of DIDs and SMS Sender IDs, served over gRPC.

pub mod auth;
mod background;
pub mod budget;
pub mod cli;
pub mod config;
pub mod domain;
pub mod edge;
pub mod error;
pub mod grpc;
pub mod health;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
pub mod proto;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
