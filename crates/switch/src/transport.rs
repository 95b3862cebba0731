//! SIP over UDP and TCP on one listen address: bytes in, sorted into the core's two lanes
//! (dialogs first, new work second); bytes out from the core. UDP is read by a thread of
//! its own ([`crate::udp_reader`]). TCP is framed by Content-Length and connections are
//! kept by peer address, so a response or an INVITE to a phone registered over TCP reuses
//! its connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dashmap::DashMap;
use hotline_sip::framing::{next_frame, Frame};
use hotline_sip::stats::{Direction, SipCounters};
use hotline_sip::transaction::{Peer, Transmit, Transport};
use hotline_sip::triage::{lane_of, Lane};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, warn};

pub use hotline_b2bua::Inbound;

/// The two queues from the sockets to the core.
#[derive(Clone)]
pub struct Lanes {
    /// Responses and in-dialog requests: the core takes these first.
    pub dialog: mpsc::Sender<Inbound>,
    /// New INVITEs, REGISTERs and the like: taken when the dialog lane is empty.
    pub new: mpsc::Sender<Inbound>,
}

/// The switch's SIP sockets.
#[derive(Clone)]
pub struct SipTransport {
    /// Blocking for its reader thread; every send passes MSG_DONTWAIT.
    udp: Arc<std::net::UdpSocket>,
    tcp: Arc<DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    lanes: Lanes,
    local: SocketAddr,
    counters: Arc<SipCounters>,
    /// The runtime TCP connections live on (sends come from the core's own thread).
    runtime: tokio::runtime::Handle,
}

/// Open TCP connections accepted at most: the file descriptors are needed for media.
pub(crate) const MAX_TCP_CONNECTIONS: usize = 4_096;
/// A TCP connection silent this long is closed (phones send CRLF keep-alives far more often).
const TCP_IDLE: std::time::Duration = std::time::Duration::from_secs(900);

/// Lines about new requests dropped at a full lane: one a second at most, with a count.
#[derive(Default)]
pub(crate) struct DropLog {
    last: Option<Instant>,
    since: u64,
}

impl DropLog {
    /// A new request from `from` was dropped at `now`.
    pub(crate) fn dropped(&mut self, now: Instant, from: SocketAddr) {
        self.since += 1;
        if self
            .last
            .is_none_or(|l| now.saturating_duration_since(l) >= Duration::from_secs(1))
        {
            warn!(
                %from,
                dropped = self.since,
                "queue of new requests full: dropping new requests unread (the switch is far behind)"
            );
            self.last = Some(now);
            self.since = 0;
        }
    }
}

impl SipTransport {
    /// Binds UDP and TCP on `listen` (port 0 picks one free port for both) and starts reading.
    pub async fn start(listen: SocketAddr, lanes: Lanes) -> std::io::Result<SipTransport> {
        let (udp, tcp) = bind_pair(listen).await?;
        let local = udp.local_addr()?;
        crate::udp_reader::size_receive_buffer(&udp);
        let transport = SipTransport {
            udp: Arc::new(udp.try_clone()?),
            tcp: Arc::new(DashMap::new()),
            lanes: lanes.clone(),
            local,
            counters: Default::default(),
            runtime: tokio::runtime::Handle::current(),
        };
        crate::udp_reader::start(udp, lanes, transport.counters())?;
        tokio::spawn(transport.clone().accept_loop(tcp));
        Ok(transport)
    }

    /// The address both sockets listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Every message in and out so far, counted (`/metrics`).
    pub fn counters(&self) -> Arc<SipCounters> {
        Arc::clone(&self.counters)
    }

    /// Passes a message from a stream on to the core, counted, in its lane (a stream is
    /// never dropped from: its peer would not send it again).
    async fn deliver(&self, msg: Inbound) -> bool {
        self.counters.count(Direction::In, &msg.data);
        let lane = match lane_of(&msg.data) {
            Lane::Dialog => &self.lanes.dialog,
            Lane::New => &self.lanes.new,
        };
        lane.send(msg).await.is_ok()
    }

    /// Sends one message; never waits (a full TCP queue or UDP buffer drops it, and SIP's
    /// retransmissions cover the loss).
    pub fn send(&self, t: Transmit) {
        self.counters.count(Direction::Out, &t.data);
        match t.to.transport {
            Transport::Udp => {
                let to = socket2::SockAddr::from(t.to.addr);
                let sent = socket2::SockRef::from(&*self.udp).send_to_with_flags(
                    &t.data,
                    &to,
                    libc::MSG_DONTWAIT,
                );
                if let Err(e) = sent {
                    debug!(to = %t.to.addr, error = %e, "udp send failed");
                }
            }
            Transport::Tcp => {
                let sender = self.tcp.get(&t.to.addr).map(|s| s.clone());
                match sender {
                    Some(s) => {
                        if s.try_send(t.data).is_err() {
                            warn!(to = %t.to.addr, "tcp send queue full or closed");
                        }
                    }
                    None => {
                        let me = self.clone();
                        self.runtime
                            .spawn(async move { me.connect_and_send(t).await });
                    }
                }
            }
        }
    }

    async fn accept_loop(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, from)) => {
                    if self.tcp.len() >= MAX_TCP_CONNECTIONS {
                        warn!(%from, "too many TCP connections; refusing one");
                        drop(stream);
                        continue;
                    }
                    let me = self.clone();
                    tokio::spawn(async move { me.serve_connection(stream, from).await });
                }
                Err(e) => {
                    warn!(error = %e, "tcp accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn connect_and_send(self, t: Transmit) {
        match TcpStream::connect(t.to.addr).await {
            Ok(stream) => {
                let (tx, _) = self.register_stream(stream, t.to.addr);
                let _ = tx.try_send(t.data);
            }
            Err(e) => warn!(to = %t.to.addr, error = %e, "tcp connect failed"),
        }
    }

    async fn serve_connection(self, stream: TcpStream, from: SocketAddr) {
        let (_, done) = self.register_stream(stream, from);
        let _ = done.await;
    }

    /// Splits a stream into a writer fed by a queue and a reader feeding the core.
    fn register_stream(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> (mpsc::Sender<Vec<u8>>, tokio::task::JoinHandle<()>) {
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
        self.tcp.insert(peer, tx.clone());
        tokio::spawn(async move {
            while let Some(data) = rx.recv().await {
                if wr.write_all(&data).await.is_err() {
                    break;
                }
            }
        });
        let me = self.clone();
        let reader = tokio::spawn(async move {
            let mut buf = BytesMut::with_capacity(8192);
            loop {
                loop {
                    match next_frame(&buf) {
                        Ok(Frame::Message { skip, len }) => {
                            let frame = buf.split_to(skip + len);
                            let data = frame.get(skip..).unwrap_or_default().to_vec();
                            let from = Peer {
                                addr: peer,
                                transport: Transport::Tcp,
                            };
                            let received = Instant::now();
                            if !me
                                .deliver(Inbound {
                                    data,
                                    from,
                                    received,
                                })
                                .await
                            {
                                return;
                            }
                        }
                        Ok(Frame::KeepAlive(n)) => {
                            let _ = buf.split_to(n);
                        }
                        Ok(Frame::NeedMore) => break,
                        Err(e) => {
                            warn!(%peer, error = %e, "bad stream framing; closing");
                            me.tcp.remove(&peer);
                            return;
                        }
                    }
                }
                match tokio::time::timeout(TCP_IDLE, rd.read_buf(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                    Ok(Ok(_)) => {}
                }
            }
            me.tcp.remove(&peer);
        });
        (tx, reader)
    }
}

/// Binds UDP and TCP to the same port (retrying when port 0 gave a port TCP cannot take).
async fn bind_pair(listen: SocketAddr) -> std::io::Result<(std::net::UdpSocket, TcpListener)> {
    let mut last_err = None;
    for _ in 0..20 {
        let udp = std::net::UdpSocket::bind(listen)?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no port free for UDP and TCP")))
}
