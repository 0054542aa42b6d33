//! Prometheus metrics: RPCs (the `grpc_server_*` names of go-grpc-prometheus,
//! which dashboards already know), list streams, readiness and the database
//! pool, served as OpenMetrics text on a port of their own.

use crate::store::{PoolStats, Store};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use prost::Message;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    grpc_service: Arc<str>,
    grpc_method: Arc<str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    grpc_service: Arc<str>,
    grpc_method: Arc<str>,
    grpc_code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    resource: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type HistogramFamily = Family<MethodLabels, Histogram, fn() -> Histogram>;

/// Per-method RPC counts, latencies and calls in flight.
#[derive(Debug, Clone)]
pub struct RpcMetrics {
    known: Arc<HashSet<String>>,
    started: Family<MethodLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    seconds: HistogramFamily,
    in_flight: Family<MethodLabels, Gauge>,
}

impl RpcMetrics {
    /// The labels of a request path. Paths the server does not serve share
    /// one label set, so that a client cannot grow the series without bound.
    pub fn labels(&self, path: &str) -> MethodLabels {
        let known = self.known.contains(path);
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .filter(|_| known)
            .unwrap_or(("unknown", "unknown"));
        MethodLabels {
            grpc_service: service.into(),
            grpc_method: method.into(),
        }
    }

    pub fn started(&self, labels: &MethodLabels) {
        self.started.get_or_create(labels).inc();
        self.in_flight.get_or_create(labels).inc();
    }

    pub fn finished(&self, labels: &MethodLabels, code: tonic::Code, seconds: f64) {
        self.in_flight.get_or_create(labels).dec();
        self.seconds.get_or_create(labels).observe(seconds);
        self.handled
            .get_or_create(&HandledLabels {
                grpc_service: labels.grpc_service.clone(),
                grpc_method: labels.grpc_method.clone(),
                grpc_code: code_name(code),
            })
            .inc();
    }
}

/// List streams open, and the pages and rows they have sent.
#[derive(Debug, Clone)]
pub struct StreamMetrics {
    open: Family<ResourceLabels, Gauge>,
    pages: Family<ResourceLabels, Counter>,
    rows: Family<ResourceLabels, Counter>,
}

impl StreamMetrics {
    /// Counts a stream of `resource` as open until the guard drops.
    pub fn open(&self, resource: &'static str) -> OpenStream {
        let labels = ResourceLabels { resource };
        let open = self.open.get_or_create_owned(&labels);
        open.inc();
        OpenStream {
            open,
            pages: self.pages.get_or_create_owned(&labels),
            rows: self.rows.get_or_create_owned(&labels),
        }
    }
}

/// One open list stream.
#[derive(Debug)]
pub struct OpenStream {
    open: Gauge,
    pages: Counter,
    rows: Counter,
}

impl OpenStream {
    pub fn sent(&self, rows: usize) {
        self.pages.inc();
        self.rows.inc_by(rows as u64);
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// Watches open, the events they sent, and how far behind the head each
/// message was.
#[derive(Debug, Clone)]
pub struct WatchMetrics {
    open: Family<ResourceLabels, Gauge>,
    events: Family<ResourceLabels, Counter>,
    lag: Family<ResourceLabels, Histogram, fn() -> Histogram>,
}

impl WatchMetrics {
    /// Counts a watch of `resource` as open until the guard drops.
    pub fn open(&self, resource: &'static str) -> OpenWatch {
        let labels = ResourceLabels { resource };
        let open = self.open.get_or_create_owned(&labels);
        open.inc();
        OpenWatch {
            open,
            events: self.events.get_or_create_owned(&labels),
            lag: self.lag.get_or_create_owned(&labels),
        }
    }
}

/// One open watch.
#[derive(Debug)]
pub struct OpenWatch {
    open: Gauge,
    events: Counter,
    lag: Histogram,
}

impl OpenWatch {
    /// A message with `events` sent, `lag` revisions behind the head.
    pub fn sent(&self, events: usize, lag: u64) {
        self.events.inc_by(events as u64);
        self.lag.observe(lag as f64);
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub rpc: RpcMetrics,
    pub streams: StreamMetrics,
    pub watches: WatchMetrics,
    /// 1 while the database answers the readiness check, else 0.
    pub database_up: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let rpc = RpcMetrics {
            known: Arc::new(served_methods()),
            started: Family::default(),
            handled: Family::default(),
            // 0.5 ms to about 16 s.
            seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
            in_flight: Family::default(),
        };
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            rpc.started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by status code",
            rpc.handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Time from the request to the last response message",
            rpc.seconds.clone(),
        );
        registry.register(
            "grpc_server_in_flight",
            "RPCs in progress (unary calls and open streams)",
            rpc.in_flight.clone(),
        );
        let streams = StreamMetrics {
            open: Family::default(),
            pages: Family::default(),
            rows: Family::default(),
        };
        registry.register(
            "numbering_list_streams_open",
            "List streams being sent",
            streams.open.clone(),
        );
        registry.register(
            "numbering_list_pages_sent",
            "Pages sent on list streams",
            streams.pages.clone(),
        );
        registry.register(
            "numbering_list_rows_sent",
            "Rows sent on list streams",
            streams.rows.clone(),
        );
        let watches = WatchMetrics {
            open: Family::default(),
            events: Family::default(),
            // 0 to about 65k revisions behind.
            lag: Family::new_with_constructor(|| Histogram::new(exponential_buckets(1.0, 4.0, 9))),
        };
        registry.register(
            "numbering_watches_open",
            "Watch streams open",
            watches.open.clone(),
        );
        registry.register(
            "numbering_watch_events_sent",
            "Events sent on watch streams",
            watches.events.clone(),
        );
        registry.register(
            "numbering_watch_lag_revisions",
            "How many revisions behind the head each watch message was when sent",
            watches.lag.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "numbering_database_up",
            "1 while the database answers the readiness check, else 0",
            database_up.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "numbering_db_pool_connections",
            "Database connections in the pool, idle or in use",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "numbering_db_pool_max_connections",
            "Connections the pool may open",
            pool_max.clone(),
        );
        registry.register(
            "numbering_build",
            "The running version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Self {
            registry,
            rpc,
            streams,
            watches,
            database_up,
            pool_connections,
            pool_max,
        }
    }

    /// The OpenMetrics text of every metric, with the pool read now.
    pub fn render(&self, pool: PoolStats) -> String {
        let in_use = pool.open.saturating_sub(pool.idle);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(pool.idle));
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(in_use));
        self.pool_max.set(i64::from(pool.max));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Serves `GET /metrics` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, store: Store) {
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state((metrics, store));
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "metrics endpoint failed");
    }
}

async fn scrape(State((metrics, store)): State<(Arc<Metrics>, Store)>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(store.pool_stats()),
    )
}

/// `/package.Service/Method` of every RPC this server serves.
fn served_methods() -> HashSet<String> {
    [
        crate::proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]
    .into_iter()
    .flat_map(|bytes| {
        prost_types::FileDescriptorSet::decode(bytes)
            .expect("the compiled descriptor sets decode")
            .file
    })
    .flat_map(|file| {
        let package = file.package().to_owned();
        file.service.into_iter().flat_map(move |service| {
            let prefix = format!("/{package}.{}/", service.name());
            service
                .method
                .into_iter()
                .map(move |method| format!("{prefix}{}", method.name()))
        })
    })
    .collect()
}

/// The status code as gRPC names it (`OK`, `INVALID_ARGUMENT`, …).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests;
