//! Accepted connections, each bounded: at most `max_connections` at once
//! (the rest wait in the kernel's backlog), the HTTP/2 preface within the
//! handshake timeout, and closed after `idle_timeout` without a call.
//! (HTTP/2 keepalive, set on the server, closes peers that stop answering.)

use futures::Stream;
use futures::task::AtomicWaker;
use pin_project_lite::pin_project;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TlsConnectInfo};

/// The client's first bytes on an HTTP/2 connection.
const PREFACE_LEN: usize = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".len();

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The connections `listener` accepts, within `limits`.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
) -> impl Stream<Item = io::Result<Connection>> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    futures::stream::unfold((listener, slots), move |(listener, slots)| async move {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let accepted = match listener.accept().await {
            Ok((tcp, peer)) => Connection::new(tcp, peer, slot, limits),
            Err(error) => {
                // Out of file descriptors, say: pause rather than spin.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(error)
            }
        };
        Some((accepted, (listener, slots)))
    })
}

/// What a connection knows of its calls; shared with the calls themselves.
#[derive(Debug)]
pub struct Calls {
    open: AtomicUsize,
    last_ended: Mutex<Instant>,
    /// The connection's reader, woken when its last call ends so that it
    /// arms the idle timer.
    reader: AtomicWaker,
}

impl Calls {
    /// Counts a call as open until the returned guard drops.
    pub fn start(self: &Arc<Self>) -> CallOnConnection {
        self.open.fetch_add(1, Ordering::AcqRel);
        CallOnConnection(self.clone())
    }

    /// When the connection falls idle, if it is idle now.
    fn idle_since(&self) -> Option<Instant> {
        if self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(*self.last_ended.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A call in progress on a connection.
#[derive(Debug)]
pub struct CallOnConnection(Arc<Calls>);

impl Drop for CallOnConnection {
    fn drop(&mut self) {
        *self.0.last_ended.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.reader.wake();
        }
    }
}

/// What every request learns of its connection (in its extensions).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub peer: SocketAddr,
    pub calls: Arc<Calls>,
}

impl ConnectionInfo {
    /// The connection of a request, over plaintext or TLS.
    pub fn of(extensions: &http::Extensions) -> Option<&ConnectionInfo> {
        extensions.get::<ConnectionInfo>().or_else(|| {
            extensions
                .get::<TlsConnectInfo<ConnectionInfo>>()
                .map(TlsConnectInfo::get_ref)
        })
    }
}

pin_project! {
    /// An accepted TCP connection that holds one of the server's connection
    /// slots and enforces the handshake and idle timeouts.
    pub struct Connection {
        #[pin]
        tcp: TcpStream,
        info: ConnectionInfo,
        _slot: OwnedSemaphorePermit,
        preface_left: usize,
        handshake: Pin<Box<Sleep>>,
        idle: Pin<Box<Sleep>>,
        idle_timeout: Duration,
    }
}

impl Connection {
    fn new(
        tcp: TcpStream,
        peer: SocketAddr,
        slot: OwnedSemaphorePermit,
        limits: ConnectionLimits,
    ) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        let now = Instant::now();
        Ok(Self {
            tcp,
            info: ConnectionInfo {
                peer,
                calls: Arc::new(Calls {
                    open: AtomicUsize::new(0),
                    last_ended: Mutex::new(now),
                    reader: AtomicWaker::new(),
                }),
            },
            _slot: slot,
            preface_left: PREFACE_LEN,
            handshake: Box::pin(tokio::time::sleep_until(now + limits.handshake_timeout)),
            idle: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            idle_timeout: limits.idle_timeout,
        })
    }
}

impl Connected for Connection {
    type ConnectInfo = ConnectionInfo;
    fn connect_info(&self) -> ConnectionInfo {
        self.info.clone()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if *this.preface_left > 0 && this.handshake.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no HTTP/2 preface within the handshake timeout",
            )));
        }
        this.info.calls.reader.register(cx.waker());
        if let Some(since) = this.info.calls.idle_since() {
            let deadline = since + *this.idle_timeout;
            if Instant::now() >= deadline {
                return Poll::Ready(Ok(())); // end of stream: hyper closes it
            }
            this.idle.as_mut().reset(deadline);
            let _ = this.idle.as_mut().poll(cx);
        }
        let before = buf.filled().len();
        let read = this.tcp.poll_read(cx, buf);
        if read.is_ready() {
            let got = buf.filled().len() - before;
            *this.preface_left = this.preface_left.saturating_sub(got);
        }
        read
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().tcp.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().tcp.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().tcp.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().tcp.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}
