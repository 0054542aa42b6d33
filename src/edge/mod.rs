//! The edge of the server, below the RPCs: which connections it keeps and
//! what it accepts of a request before any service sees it.

pub mod connections;
pub mod guard;
mod unread;

pub use connections::{ConnectionLimits, incoming};
pub use guard::GuardLayer;
