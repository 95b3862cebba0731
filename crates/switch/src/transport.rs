//! SIP over UDP and TCP on one listen address: bytes in, parsed messages to the core; bytes
//! out from the core. TCP is framed by Content-Length and connections are kept by peer
//! address, so a response or an INVITE to a phone registered over TCP reuses its connection.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use dashmap::DashMap;
use hotline_sip::framing::{next_frame, Frame};
use hotline_sip::stats::{Direction, SipCounters};
use hotline_sip::transaction::{Peer, Transmit, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

pub use hotline_b2bua::Inbound;

/// The switch's SIP sockets.
#[derive(Clone)]
pub struct SipTransport {
    udp: Arc<UdpSocket>,
    tcp: Arc<DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    inbound: mpsc::Sender<Inbound>,
    local: SocketAddr,
    counters: Arc<SipCounters>,
}

const MAX_DATAGRAM: usize = 65_535;
/// Open TCP connections accepted at most: the file descriptors are needed for media.
const MAX_TCP_CONNECTIONS: usize = 4_096;
/// A TCP connection silent this long is closed (phones send CRLF keep-alives far more often).
const TCP_IDLE: std::time::Duration = std::time::Duration::from_secs(900);

impl SipTransport {
    /// Binds UDP and TCP on `listen` (port 0 picks one free port for both) and starts reading.
    pub async fn start(
        listen: SocketAddr,
        inbound: mpsc::Sender<Inbound>,
    ) -> std::io::Result<SipTransport> {
        let (udp, tcp) = bind_pair(listen).await?;
        let local = udp.local_addr()?;
        let transport = SipTransport {
            udp: Arc::new(udp),
            tcp: Arc::new(DashMap::new()),
            inbound,
            local,
            counters: Default::default(),
        };
        tokio::spawn(transport.clone().udp_loop());
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

    /// Passes a message on to the core, counted.
    async fn deliver(&self, msg: Inbound) -> bool {
        self.counters.count(Direction::In, &msg.data);
        self.inbound.send(msg).await.is_ok()
    }

    /// Sends one message; never waits (a full TCP queue or UDP buffer drops it, and SIP's
    /// retransmissions cover the loss).
    pub fn send(&self, t: Transmit) {
        self.counters.count(Direction::Out, &t.data);
        match t.to.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.try_send_to(&t.data, t.to.addr) {
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
                        tokio::spawn(async move { me.connect_and_send(t).await });
                    }
                }
            }
        }
    }

    async fn udp_loop(self) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (n, from) = match self.udp.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    // ICMP port-unreachable surfaces here on some systems: not fatal.
                    debug!(error = %e, "udp recv error");
                    continue;
                }
            };
            let Some(data) = buf.get(..n) else { continue };
            if data.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
                continue; // keep-alive
            }
            let msg = Inbound {
                data: data.to_vec(),
                from: Peer {
                    addr: from,
                    transport: Transport::Udp,
                },
            };
            if !self.deliver(msg).await {
                return;
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
                            if !me.deliver(Inbound { data, from }).await {
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
async fn bind_pair(listen: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last_err = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no port free for UDP and TCP")))
}
