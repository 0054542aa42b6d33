//! A client that writes HTTP/2 as it likes: gRPC frames built by hand, any
//! metadata, and windows it never opens. A polite tonic client would refuse
//! to send most of what the abuse tests send.

use bytes::{BufMut, Bytes, BytesMut};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tonic::{Code, Status};

/// An HTTP/2 connection of our own.
pub struct RawConnection {
    send: h2::client::SendRequest<Bytes>,
    address: SocketAddr,
    pub closed: tokio::task::JoinHandle<()>,
}

impl RawConnection {
    pub async fn open(address: SocketAddr) -> Self {
        Self::open_with(address, h2::client::Builder::new()).await
    }

    pub async fn open_with(address: SocketAddr, builder: h2::client::Builder) -> Self {
        let tcp = TcpStream::connect(address).await.unwrap();
        let (send, connection) = builder.handshake(tcp).await.unwrap();
        let closed = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            send,
            address,
            closed,
        }
    }

    /// Starts a call to `path` with `metadata` (and, unless it names the
    /// caller, the trusted headers of a new admin), sending `body` as is.
    pub async fn start(
        &mut self,
        path: &str,
        metadata: &[(&str, String)],
        body: Bytes,
    ) -> h2::client::ResponseFuture {
        let mut request = http::Request::post(format!("http://{}{path}", self.address))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if !metadata.iter().any(|(key, _)| *key == "x-role") {
            request = request
                .header("x-user-id", uuid::Uuid::now_v7().to_string())
                .header("x-role", "admin");
        }
        for (key, value) in metadata {
            request = request.header(*key, value);
        }
        let mut ready = self.send.clone().ready().await.unwrap();
        let (response, mut stream) = ready
            .send_request(request.body(()).unwrap(), false)
            .unwrap();
        stream.send_data(body, true).unwrap();
        self.send = ready;
        response
    }

    /// A whole call: its final status, whether in the headers
    /// (trailers-only) or the trailers.
    pub async fn call(&mut self, path: &str, metadata: &[(&str, String)], body: Bytes) -> Status {
        let response = self.start(path, metadata, body).await;
        outcome(response).await
    }
}

/// The status a call ends with.
pub async fn outcome(response: h2::client::ResponseFuture) -> Status {
    let response = response.await.expect("a response");
    if let Some(status) = Status::from_header_map(response.headers()) {
        return status;
    }
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        let data = data.unwrap();
        let _ = body.flow_control().release_capacity(data.len());
    }
    let trailers = body.trailers().await.unwrap().expect("trailers");
    Status::from_header_map(&trailers).unwrap_or_else(|| Status::new(Code::Ok, ""))
}

/// `message` in a gRPC frame: uncompressed, its length, itself.
pub fn frame(message: &[u8]) -> Bytes {
    framed(0, message.len() as u32, message)
}

/// A gRPC frame with any flag and any declared length.
pub fn framed(flag: u8, declared_length: u32, message: &[u8]) -> Bytes {
    let mut buffer = BytesMut::with_capacity(5 + message.len());
    buffer.put_u8(flag);
    buffer.put_u32(declared_length);
    buffer.put_slice(message);
    buffer.freeze()
}
