//! OpenTelemetry export (built with `--features otel`): the binary sends its
//! RPC spans to an OTLP/gRPC collector, in the caller's trace.

use crate::helpers::{Binary, Identity};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use numbering::proto::v1::GetDidRequest;
use numbering::proto::v1::did_service_client::DidServiceClient;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;

/// A collector that accepts every export and hands over the raw request
/// bodies (protobuf: the test looks for known bytes in them).
async fn collector() -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (exports, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let exports = exports.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let exports = exports.clone();
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let _ = exports.send(body.to_vec());
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", "0".parse().unwrap());
                        // One empty ExportTraceServiceResponse, then the status.
                        let frames = futures::stream::iter([
                            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(
                                &[0; 5],
                            ))),
                            Ok(Frame::trailers(trailers)),
                        ]);
                        hyper::Response::builder()
                            .header("content-type", "application/grpc")
                            .body(StreamBody::new(frames))
                            .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })
                    }
                },
            );
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (address, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_spans_are_exported_in_the_callers_trace() {
    let (collector, mut exports) = collector().await;
    let endpoint = format!("http://{collector}");
    let mut server = Binary::start(
        &["--auth", "trusted-headers"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    );
    let channel = server.channel().await;
    let mut request = Identity::admin().request(GetDidRequest {
        id: uuid::Uuid::now_v7().to_string(),
    });
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    request
        .metadata_mut()
        .insert("x-request-id", "otel-request-1".parse().unwrap());
    DidServiceClient::new(channel)
        .get_did(request)
        .await
        .unwrap_err();
    // SIGTERM: the server flushes what it has not exported yet.
    assert!(server.terminate());

    let export = tokio::time::timeout(Duration::from_secs(10), exports.recv())
        .await
        .expect("spans are exported")
        .unwrap();
    let contains = |needle: &[u8]| export.windows(needle.len()).any(|w| w == needle);
    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(contains(b"otel-request-1"), "the request id is on the span");
    assert!(contains(b"/numbering.v1.DidService/GetDid"));
    assert!(contains(&trace_bytes), "the span is in the caller's trace");
}
