//! Logs and RPC metrics: the subscriber, and one span per RPC naming its
//! request id, method, peer, the caller's role and organization, the status
//! code and the latency.

use crate::auth::Caller;
use crate::config::LogFormat;
use crate::metrics::{MethodLabels, RpcMetrics};
use http::HeaderValue;
use http_body::{Body, Frame};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument, Span};
use tracing_subscriber::EnvFilter;

/// The tracing pipeline: logs to stderr, filtered by `RUST_LOG` (default:
/// `info`), and with the `otel` feature, spans to an OTLP collector. Flushes
/// what is left to export when dropped.
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("OpenTelemetry: {error}");
        }
    }
}

/// Installs the tracing pipeline. Call it inside the Tokio runtime.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Telemetry, String> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    #[cfg_attr(not(feature = "otel"), allow(unused_mut))]
    let mut layers: Vec<Boxed> = vec![match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        // The RPC span's fields (request id, method, …) on every line of
        // the call, as `span`, beside the event's own fields.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }];
    #[cfg(feature = "otel")]
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let (layer, provider) = crate::otel::layer(endpoint)?;
            layers.push(layer.boxed());
            Some(provider)
        }
        None => None,
    };
    #[cfg(not(feature = "otel"))]
    if otlp_endpoint.is_some() {
        return Err(
            "--otlp-endpoint needs a build with the otel feature (cargo build --features otel)"
                .into(),
        );
    }
    tracing_subscriber::registry()
        .with(layers.with_filter(filter))
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(Telemetry {
        #[cfg(feature = "otel")]
        provider,
    })
}

/// The metadata key of the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// The caller's request id if it is a sensible one (1 to 128 visible ASCII
/// characters), or a new UUID.
fn request_id(headers: &http::HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID)
        .filter(|v| (1..=128).contains(&v.len()) && v.as_bytes().iter().all(u8::is_ascii_graphic))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a valid header value")
        })
}

/// The client's address, over plaintext or TLS.
fn peer_of(extensions: &http::Extensions) -> Option<std::net::SocketAddr> {
    crate::edge::connections::ConnectionInfo::of(extensions).map(|connection| connection.peer)
}

/// Names the caller on the current RPC's span (called by the edge guard).
pub fn record_caller(caller: &Caller) {
    let span = Span::current();
    span.record("role", caller.role().as_str());
    if let Some(organization) = caller.organization_id() {
        span.record("organization", tracing::field::display(organization));
    }
}

/// A tower layer giving every RPC its request id, span, metrics and a
/// closing log line.
#[derive(Debug, Clone)]
pub struct RpcLayer {
    metrics: RpcMetrics,
}

impl RpcLayer {
    pub fn new(metrics: RpcMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for RpcLayer {
    type Service = Rpc<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Rpc {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rpc<S> {
    inner: S,
    metrics: RpcMetrics,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Rpc<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body,
{
    type Response = http::Response<Logged<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let request_id = request_id(request.headers());
        request.headers_mut().insert(REQUEST_ID, request_id.clone());
        let peer = peer_of(request.extensions());
        let span = tracing::info_span!(
            "rpc",
            request_id = %String::from_utf8_lossy(request_id.as_bytes()),
            method = %request.uri().path(),
            peer = Empty,
            role = Empty,
            organization = Empty,
            code = Empty,
            latency_ms = Empty,
        );
        if let Some(peer) = peer {
            span.record("peer", tracing::field::display(peer));
        }
        #[cfg(feature = "otel")]
        crate::otel::adopt_parent(&span, request.headers());
        // Probes and reflection are frequent and dull: log them at debug.
        let routine = request.uri().path().starts_with("/grpc.");
        let labels = self.metrics.labels(request.uri().path());
        self.metrics.started(&labels);
        let log = CallLog {
            span: span.clone(),
            started: Instant::now(),
            code: None,
            routine,
            metrics: self.metrics.clone(),
            labels,
            done: false,
        };
        let future = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let mut log = log;
                let mut response = future.await?;
                // A call that fails before any message ("trailers-only")
                // carries its status in the headers; others in the trailers.
                log.code = grpc_status(response.headers());
                response.headers_mut().insert(REQUEST_ID, request_id);
                Ok(response.map(|body| Logged { body, log }))
            }
            .instrument(span),
        )
    }
}

pin_project! {
    /// A response body that logs the call's status and latency when it ends.
    pub struct Logged<B> {
        #[pin]
        body: B,
        log: CallLog,
    }
}

struct CallLog {
    span: Span,
    started: Instant,
    code: Option<i32>,
    routine: bool,
    metrics: RpcMetrics,
    labels: MethodLabels,
    done: bool,
}

impl CallLog {
    /// Logs and counts the call once, with its status code, or `otherwise`
    /// when it ended without one.
    fn finish(&mut self, otherwise: tonic::Code) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let code = self.code.map_or(otherwise, tonic::Code::from_i32);
        self.metrics
            .finished(&self.labels, code, elapsed.as_secs_f64());
        // Whole microseconds, shown as milliseconds.
        let latency_ms = elapsed.as_micros() as f64 / 1000.0;
        self.span.record("code", tracing::field::debug(code));
        self.span.record("latency_ms", latency_ms);
        if self.routine {
            tracing::debug!(parent: &self.span, "rpc finished");
        } else {
            tracing::info!(parent: &self.span, "rpc finished");
        }
    }
}

impl Drop for CallLog {
    fn drop(&mut self) {
        // The client went away (or the server stopped) mid-response, or
        // the request failed before a response.
        self.finish(tonic::Code::Cancelled);
    }
}

impl<B: Body> Body for Logged<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        // Whatever the body logs while it is produced belongs to the call.
        let _entered = this.log.span.clone().entered();
        let frame = ready!(this.body.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.log.code = Some(code);
                    this.log.finish(tonic::Code::Unknown);
                }
            }
            Some(Err(_)) | None => this.log.finish(tonic::Code::Unknown),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}
