//! Logs: the subscriber, and one span per RPC naming the method, the caller's
//! role and organization, the status code and the latency.

use crate::auth::Caller;
use http_body::{Body, Frame};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument, Span};
use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by `RUST_LOG` (default: `info`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

/// Names the caller on the current RPC's span (called by the interceptor).
pub fn record_caller(caller: &Caller) {
    let span = Span::current();
    span.record("role", caller.role().as_str());
    if let Some(organization) = caller.organization_id() {
        span.record("organization", tracing::field::display(organization));
    }
}

/// A tower layer giving every RPC its span and a closing log line.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcSpanLayer;

impl<S> tower::Layer<S> for RpcSpanLayer {
    type Service = RpcSpan<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RpcSpan { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RpcSpan<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for RpcSpan<S>
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

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let span = tracing::info_span!(
            "rpc",
            method = %request.uri().path(),
            role = Empty,
            organization = Empty,
            code = Empty,
            latency_ms = Empty,
        );
        // Probes and reflection are frequent and dull: log them at debug.
        let routine = request.uri().path().starts_with("/grpc.");
        let started = Instant::now();
        let future = span.in_scope(|| self.inner.call(request));
        let body_span = span.clone();
        Box::pin(
            async move {
                let response = future.await?;
                // A call that fails before any message ("trailers-only")
                // carries its status in the headers; others in the trailers.
                let early = grpc_status(response.headers());
                Ok(response.map(|body| Logged {
                    body,
                    log: CallLog {
                        span: body_span,
                        started,
                        code: early,
                        routine,
                        done: false,
                    },
                }))
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
    done: bool,
}

impl CallLog {
    fn finish(&mut self, outcome: &str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        // Whole microseconds, shown as milliseconds.
        let latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0;
        match self.code {
            Some(code) => self
                .span
                .record("code", tracing::field::debug(tonic::Code::from_i32(code))),
            None => self.span.record("code", outcome),
        };
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
        // The client went away (or the server stopped) mid-response.
        self.finish("Cancelled");
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
        let frame = ready!(this.body.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.log.code = Some(code);
                    this.log.finish("Unknown");
                }
            }
            Some(Err(_)) => this.log.finish("Unknown"),
            None => this.log.finish("Unknown"),
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
