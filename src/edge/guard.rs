//! What every request meets before authentication and decoding: a bound on
//! its metadata, a place among its connection's open calls (for the idle
//! timeout), and, on the way out, tonic's statuses for request bytes it
//! could not decode restated as what they are: the client's fault
//! (`INVALID_ARGUMENT`, `MALFORMED_REQUEST`, naming the field where prost
//! does), or a message over the limit (`RESOURCE_EXHAUSTED`). tonic calls
//! these `INTERNAL` and `OUT_OF_RANGE`, which would page whoever runs us
//! for a client's bug.

use super::connections::{CallOnConnection, ConnectionInfo};
use crate::error::Error;
use http::HeaderMap;
use http_body::{Body, Frame};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Status};

#[derive(Debug, Clone)]
pub struct GuardLayer {
    limits: Arc<Limits>,
}

#[derive(Debug)]
struct Limits {
    /// Bytes of request metadata, counted as HTTP/2 does.
    max_metadata: usize,
    /// Places for calls open at once on the whole server.
    calls: Arc<Semaphore>,
    max_calls: usize,
}

impl GuardLayer {
    pub fn new(max_metadata: usize, max_calls: usize) -> Self {
        Self {
            limits: Arc::new(Limits {
                max_metadata,
                calls: Arc::new(Semaphore::new(max_calls)),
                max_calls,
            }),
        }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            limits: self.limits.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl Limits {
    /// Why `request` is refused before any service sees it, if it is; else
    /// its place among the server's open calls (none for health checks,
    /// which must answer however busy the server is).
    fn admit<B>(&self, request: &http::Request<B>) -> Result<Option<OwnedSemaphorePermit>, Error> {
        let size = metadata_size(request.headers());
        if size > self.max_metadata {
            return Err(Error::MetadataTooLarge {
                size,
                limit: self.max_metadata,
            });
        }
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Ok(None);
        }
        match self.calls.clone().try_acquire_owned() {
            Ok(place) => Ok(Some(place)),
            Err(_) => Err(Error::TooManyCalls {
                limit: self.max_calls,
            }),
        }
    }
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Guard<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body + Default + Send + 'static,
{
    type Response = http::Response<Guarded<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let on_connection = ConnectionInfo::of(request.extensions()).map(|c| c.calls.start());
        let place = match self.limits.admit(&request) {
            Ok(place) => place,
            Err(refusal) => {
                let response = Status::from(refusal).into_http::<ResBody>();
                let call = OpenCall {
                    _on_connection: on_connection,
                    _place: None,
                };
                return Box::pin(
                    async move { Ok(response.map(|body| Guarded { body, _call: call })) },
                );
            }
        };
        let call = OpenCall {
            _on_connection: on_connection,
            _place: place,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let (mut parts, body) = response.await?.into_parts();
            restate(&mut parts.headers);
            Ok(http::Response::from_parts(
                parts,
                Guarded { body, _call: call },
            ))
        })
    }
}

/// The size of a header list as HTTP/2 counts it (RFC 9113 §6.5.2).
fn metadata_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum()
}

/// What a call holds until its response is over: its count on the
/// connection and its place among the server's calls.
struct OpenCall {
    _on_connection: Option<CallOnConnection>,
    _place: Option<OwnedSemaphorePermit>,
}

pin_project! {
    /// A response body whose trailers are restated, and which keeps its
    /// call open until it is dropped.
    pub struct Guarded<B> {
        #[pin]
        body: B,
        _call: OpenCall,
    }
}

impl<B: Body> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(self.project().body.poll_frame(cx));
        Poll::Ready(frame.map(|frame| {
            frame.map(|frame| match frame.into_trailers() {
                Ok(mut trailers) => {
                    restate(&mut trailers);
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Replaces a status tonic made for undecodable request bytes with the
/// service's own; leaves every other status as it is.
fn restate(headers: &mut HeaderMap) {
    let Some(error) = Status::from_header_map(headers).and_then(|s| client_fault(&s)) else {
        return;
    };
    for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        headers.remove(name);
    }
    if let Err(status) = Status::from(error).add_header(headers) {
        tracing::error!(%status, "cannot restate a decoding failure");
    }
}

/// The client's fault behind a status tonic produced while reading the
/// request, if it is one. The messages are tonic's and prost's own (see
/// tonic's `codec/decode.rs` and `server/grpc.rs`); a test sends each case,
/// so a change in them fails the build's tests, not production.
pub(crate) fn client_fault(status: &Status) -> Option<Error> {
    let message = status.message();
    match status.code() {
        Code::Internal => {
            if let Some(decode_error) = message.strip_prefix("failed to decode Protobuf message: ")
            {
                let (field, detail) = field_and_detail(decode_error);
                return Some(Error::Malformed { field, detail });
            }
            let framing = message.starts_with("protocol error: received message with")
                || message == "Unexpected EOF decoding stream."
                || message == "Missing request message.";
            framing.then(|| Error::Malformed {
                field: None,
                detail: message.to_owned(),
            })
        }
        Code::OutOfRange if message.starts_with("Error, decoded message length too large") => {
            Some(Error::MessageTooLarge(message.replace(
                "Error, decoded message length too large",
                "the request message is too large",
            )))
        }
        _ => None,
    }
}

/// prost writes `Message.field: ` for each message it was in, innermost
/// first, then what was wrong; the field path reads outermost first.
fn field_and_detail(text: &str) -> (Option<String>, String) {
    let mut fields = Vec::new();
    let mut rest = text;
    while let Some((head, tail)) = rest.split_once(": ") {
        let Some((message, field)) = head.split_once('.') else {
            break;
        };
        let identifier =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !identifier(message) || !identifier(field) {
            break;
        }
        fields.push(field);
        rest = tail;
    }
    fields.reverse();
    let field = (!fields.is_empty()).then(|| fields.join("."));
    (field, rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prost_errors_name_the_field_outermost_first() {
        let cases = [
            (
                "CreateDidRequest.number: invalid string value: data is not UTF-8 encoded",
                Some("number"),
                "invalid string value: data is not UTF-8 encoded",
            ),
            (
                "Inner.b: Outer.a: buffer underflow",
                Some("a.b"),
                "buffer underflow",
            ),
            ("invalid tag value: 0", None, "invalid tag value: 0"),
        ];
        for (text, field, detail) in cases {
            assert_eq!(
                field_and_detail(text),
                (field.map(str::to_owned), detail.to_owned()),
                "{text}"
            );
        }
    }

    #[test]
    fn other_statuses_are_left_alone() {
        for status in [
            Status::internal("internal error"),
            Status::out_of_range("page 9 of 3"),
            Status::invalid_argument("failed to decode Protobuf message: x"),
        ] {
            assert!(client_fault(&status).is_none(), "{status:?}");
        }
    }
}
