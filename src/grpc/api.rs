//! What both services' RPC methods stand on: the service of their kind and
//! the metrics of their streams and watches.

use crate::metrics::{StreamMetrics, WatchMetrics};
use crate::service::Service;

/// The gRPC service of one resource kind.
pub struct Api<K> {
    pub(super) service: Service<K>,
    pub(super) streams: StreamMetrics,
    pub(super) watches: WatchMetrics,
}

impl<K> Api<K> {
    pub fn new(service: Service<K>, streams: StreamMetrics, watches: WatchMetrics) -> Self {
        Self {
            service,
            streams,
            watches,
        }
    }
}
