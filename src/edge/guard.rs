//! What every request meets before decoding: a bound on its metadata, its
//! caller (authenticated here, so that places are counted per caller), a
//! place among its caller's and the server's calls, a count among its
//! connection's open calls (for the idle timeout), and, on the way out, tonic's statuses for request bytes it
//! could not decode restated as what they are: the client's fault
//! (`INVALID_ARGUMENT`, `MALFORMED_REQUEST`, naming the field where prost
//! does), or a message over the limit (`RESOURCE_EXHAUSTED`). tonic calls
//! these `INTERNAL` and `OUT_OF_RANGE`, which would page whoever runs us
//! for a client's bug.

use super::connections::{CallOnConnection, ConnectionInfo};
use crate::auth::Authenticator;
use crate::budget::{Holder, Places};
use crate::config::TransportSettings;
use crate::error::Error;
use http::HeaderMap;
use http_body::{Body, Frame};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tonic::metadata::MetadataMap;
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
    /// Each caller's places among them (each peer's, before a caller is
    /// known), so that no caller takes the others' places.
    callers: Arc<Places>,
    /// How long a call keeps its places at most.
    call_time_limit: Duration,
    authenticator: Authenticator,
}

impl GuardLayer {
    pub fn new(transport: &TransportSettings, authenticator: Authenticator) -> Self {
        Self {
            limits: Arc::new(Limits {
                max_metadata: transport.max_metadata_size as usize,
                calls: Arc::new(Semaphore::new(transport.max_calls as usize)),
                max_calls: transport.max_calls as usize,
                callers: Arc::new(Places::new(transport.max_calls_per_caller as usize)),
                call_time_limit: transport.call_time_limit,
                authenticator,
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

/// Health checks need no identity and take no place: they must answer
/// however busy the server is.
const HEALTH: &str = "/grpc.health.v1.Health/";
/// The services whose calls need a caller (health and reflection do not).
const NEEDS_CALLER: &str = "/numbering.";

impl Limits {
    /// Why `request` is refused before any service sees it, if it is; else
    /// the caller, put in its extensions, and its places.
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Option<CallPlaces>, Error> {
        let size = metadata_size(request.headers());
        if size > self.max_metadata {
            return Err(Error::MetadataTooLarge {
                size,
                limit: self.max_metadata,
            });
        }
        let path = request.uri().path();
        if path.starts_with(HEALTH) {
            return Ok(None);
        }
        let holder = if path.starts_with(NEEDS_CALLER) {
            let metadata = MetadataMap::from_headers(request.headers().clone());
            let caller = self.authenticator.caller(&metadata)?;
            crate::telemetry::record_caller(&caller);
            let holder = Holder::of(&caller);
            request.extensions_mut().insert(caller);
            Some(holder)
        } else {
            ConnectionInfo::of(request.extensions()).map(|c| Holder::Peer(c.peer.ip()))
        };
        let mut places = CallPlaces {
            callers: self.callers.clone(),
            holder,
            caller: None,
            server: None,
        };
        if let Some(holder) = holder {
            let place = self.callers.of(holder).try_acquire_owned();
            places.caller = Some(place.map_err(|_| Error::TooManyCallerCalls {
                limit: self.callers.per_holder(),
            })?);
        }
        let place = self.calls.clone().try_acquire_owned();
        places.server = Some(place.map_err(|_| Error::TooManyCalls {
            limit: self.max_calls,
        })?);
        Ok(Some(places))
    }
}

/// A call's places: its caller's and the server's.
#[derive(Debug)]
struct CallPlaces {
    callers: Arc<Places>,
    holder: Option<Holder>,
    caller: Option<OwnedSemaphorePermit>,
    server: Option<OwnedSemaphorePermit>,
}

impl Drop for CallPlaces {
    fn drop(&mut self) {
        drop(self.caller.take());
        drop(self.server.take());
        if let Some(holder) = self.holder {
            self.callers.forget_if_unused(holder);
        }
    }
}

/// Keeps `places` until the call ends (the returned sender drops) or
/// `limit` passes, whichever is first. A response the client never takes
/// stays in HTTP/2's flow control, where nothing polls its body; the
/// places cannot wait for that.
fn keep(places: CallPlaces, limit: Duration) -> oneshot::Sender<()> {
    let (ended, on_end) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _places = places;
        tokio::select! {
            () = tokio::time::sleep(limit) => {}
            _ = on_end => {}
        }
    });
    ended
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

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let on_connection = ConnectionInfo::of(request.extensions()).map(|c| c.calls.start());
        let places = match self.limits.admit(&mut request) {
            Ok(places) => places,
            Err(refusal) => {
                let response = Status::from(refusal).into_http::<ResBody>();
                let call = OpenCall {
                    on_connection,
                    _places: None,
                };
                return Box::pin(async move { Ok(response.map(|body| Guarded { body, call })) });
            }
        };
        let call = OpenCall {
            on_connection,
            _places: places.map(|places| keep(places, self.limits.call_time_limit)),
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let (mut parts, body) = response.await?.into_parts();
            restate(&mut parts.headers);
            Ok(http::Response::from_parts(parts, Guarded { body, call }))
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
/// connection and (until the call time limit) its places.
struct OpenCall {
    on_connection: Option<CallOnConnection>,
    _places: Option<oneshot::Sender<()>>,
}

pin_project! {
    /// A response body whose trailers are restated, which tells its
    /// connection when a frame waits for the client, and which keeps its
    /// call open until it is dropped.
    pub struct Guarded<B> {
        #[pin]
        body: B,
        call: OpenCall,
    }
}

impl<B: Body> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let answer = this
            .call
            .on_connection
            .as_ref()
            .map(CallOnConnection::answer);
        if let Some(answer) = answer {
            answer.asked();
        }
        let frame = ready!(this.body.poll_frame(cx));
        if let (Some(answer), Some(Ok(frame))) = (answer, &frame)
            && frame.is_data()
        {
            answer.offered();
        }
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
