//! Accepted connections, each bounded: at most `max_connections` at once
//! (the rest wait in the kernel's backlog), at most `max_per_peer` from one
//! address and `max_half_open_per_peer` of those without a call yet (the
//! rest are closed at once, so that one address cannot take every slot),
//! the first call's headers within the handshake timeout, and closed after
//! `idle_timeout` without a call, or once a frame of an answer has waited
//! `send_timeout` for its client to take it (see `unread`). (HTTP/2
//! keepalive, set on the server, closes peers that stop answering.)

use super::unread::{Answer, Answers};
use futures::Stream;
use futures::task::AtomicWaker;
use pin_project_lite::pin_project;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TlsConnectInfo};

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_per_peer: usize,
    pub max_half_open_per_peer: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
}

/// The connections `listener` accepts, within `limits`.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
) -> impl Stream<Item = io::Result<Connection>> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Arc::new(Peers {
        limits,
        counts: Mutex::new(HashMap::new()),
    });
    let state = (listener, slots, peers);
    futures::stream::unfold(state, move |(listener, slots, peers)| async move {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let accepted = loop {
            match listener.accept().await {
                Ok((tcp, peer)) => match peers.admit(peer.ip()) {
                    Some(place) => break Connection::new(tcp, peer, slot, place, limits),
                    // Closed at once: the slot waits for the next one.
                    None => tracing::debug!(%peer, "refused a connection over its peer's limits"),
                },
                Err(error) => {
                    // Out of file descriptors, say: pause rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    break Err(error);
                }
            }
        };
        Some((accepted, (listener, slots, peers)))
    })
}

/// How many connections each address has open, and how many of them have
/// not started a call yet.
#[derive(Debug)]
struct Peers {
    limits: ConnectionLimits,
    counts: Mutex<HashMap<IpAddr, PeerCount>>,
}

#[derive(Debug, Default)]
struct PeerCount {
    open: usize,
    half_open: usize,
}

impl Peers {
    /// A place for a new connection from `ip`, unless it is at a limit.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<PeerPlace> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_default();
        if count.open >= self.limits.max_per_peer
            || count.half_open >= self.limits.max_half_open_per_peer
        {
            if count.open == 0 {
                counts.remove(&ip);
            }
            return None;
        }
        count.open += 1;
        count.half_open += 1;
        Some(PeerPlace {
            peers: self.clone(),
            ip,
            half_open: AtomicBool::new(true),
        })
    }
}

/// A connection's place among its address's: half-open until its first
/// call starts.
#[derive(Debug)]
struct PeerPlace {
    peers: Arc<Peers>,
    ip: IpAddr,
    half_open: AtomicBool,
}

impl PeerPlace {
    fn call_started(&self) {
        if self.half_open.swap(false, Ordering::AcqRel) {
            let mut counts = self.peers.counts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = counts.get_mut(&self.ip) {
                count.half_open -= 1;
            }
        }
    }
}

impl Drop for PeerPlace {
    fn drop(&mut self) {
        let half_open = *self.half_open.get_mut();
        let mut counts = self.peers.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            count.open -= 1;
            count.half_open -= usize::from(half_open);
            if count.open == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// What a connection knows of its calls; shared with the calls themselves.
#[derive(Debug)]
pub struct Calls {
    /// Whether a call has started: until then the connection is half-open.
    started: AtomicBool,
    place: PeerPlace,
    open: AtomicUsize,
    last_ended: Mutex<Instant>,
    /// The connection's reader, woken when its last call ends so that it
    /// arms the idle timer.
    reader: AtomicWaker,
    answers: Arc<Answers>,
}

impl Calls {
    /// Counts a call as open until the returned guard drops.
    pub fn start(self: &Arc<Self>) -> CallOnConnection {
        if !self.started.swap(true, Ordering::AcqRel) {
            self.place.call_started();
        }
        self.open.fetch_add(1, Ordering::AcqRel);
        CallOnConnection {
            answer: self.answers.track(),
            calls: self.clone(),
        }
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
pub struct CallOnConnection {
    calls: Arc<Calls>,
    answer: Answer,
}

impl CallOnConnection {
    /// Its answer, which says when a frame waits for the client.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
}

impl Drop for CallOnConnection {
    fn drop(&mut self) {
        *self
            .calls
            .last_ended
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Instant::now();
        if self.calls.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.calls.reader.wake();
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
        handshake: Pin<Box<Sleep>>,
        idle: Pin<Box<Sleep>>,
        idle_timeout: Duration,
        // When to look again whether a frame has waited too long.
        unread: Pin<Box<Sleep>>,
        send_timeout: Duration,
    }
}

impl Connection {
    fn new(
        tcp: TcpStream,
        peer: SocketAddr,
        slot: OwnedSemaphorePermit,
        place: PeerPlace,
        limits: ConnectionLimits,
    ) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        let now = Instant::now();
        Ok(Self {
            tcp,
            info: ConnectionInfo {
                peer,
                calls: Arc::new(Calls {
                    started: AtomicBool::new(false),
                    place,
                    open: AtomicUsize::new(0),
                    last_ended: Mutex::new(now),
                    reader: AtomicWaker::new(),
                    answers: Answers::new(),
                }),
            },
            _slot: slot,
            handshake: Box::pin(tokio::time::sleep_until(now + limits.handshake_timeout)),
            idle: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            idle_timeout: limits.idle_timeout,
            unread: Box::pin(tokio::time::sleep_until(now + limits.send_timeout)),
            send_timeout: limits.send_timeout,
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
        // Until its first call, a connection holds a half-open place: it
        // must say what it wants (preface, settings, a whole header block)
        // within the handshake timeout.
        if !this.info.calls.started.load(Ordering::Acquire)
            && this.handshake.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no call within the handshake timeout",
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
        if this.info.calls.open.load(Ordering::Acquire) > 0 {
            let now = Instant::now();
            let next_look = match this.info.calls.answers.oldest_wait() {
                Some(since) if now >= since + *this.send_timeout => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client took no part of an answer within the send timeout",
                    )));
                }
                Some(since) => since + *this.send_timeout,
                // A frame may begin to wait at any time: look again soon.
                None => now + *this.send_timeout / 4,
            };
            this.unread.as_mut().reset(next_look);
            let _ = this.unread.as_mut().poll(cx);
        }
        this.tcp.poll_read(cx, buf)
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
