//! RFC 3261 transactions (section 17) for every transaction of the switch, as one pure
//! state machine in the style of quinn-proto: feed it messages and the time, then poll it for
//! datagrams to send, events for the transaction user (the B2BUA) and the next timer.
//!
//! RFC 6026 is followed for INVITE 2xx: the server transaction stays `Accepted` and
//! retransmits the 2xx until the ACK arrives (timer L), and the client transaction stays
//! `Accepted` for timer M passing 2xx retransmissions up so the dialog ACKs them again.

mod client;
mod messages;
mod server;
mod timer;

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::message::{reason_phrase, Method, Request, Response, SipMessage};

pub use messages::cancel_for;
pub use timer::{Timer, TimerConfig};

use client::ClientTx;
use messages::stamp_received;
use server::ServerTx;
use timer::Scheduled;

/// How a peer is reached; reliable transports skip retransmissions and linger timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams: retransmit, absorb duplicates.
    Udp,
    /// A stream: no retransmissions.
    Tcp,
}

impl Transport {
    /// Whether the transport delivers reliably (RFC 3261 17.1.1.2).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }
    /// The token used in Via.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// A remote SIP address with its transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// IP and port.
    pub addr: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
}

/// Bytes to send to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub to: Peer,
    /// One whole SIP message.
    pub data: Vec<u8>,
}

/// A transaction's handle, unique for the endpoint's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub u64);

/// What the transaction layer tells the transaction user.
#[derive(Debug, Clone, PartialEq)]
pub enum TxEvent {
    /// A new request opened a server transaction; answer it with [`Endpoint::respond`].
    Request {
        /// The server transaction.
        tx: TxId,
        /// The request.
        request: Request,
        /// Where it came from (responses go back there).
        from: Peer,
    },
    /// A CANCEL matched a pending INVITE; the CANCEL got its 200, the INVITE awaits a 487.
    Cancelled {
        /// The INVITE's server transaction.
        invite: TxId,
    },
    /// An ACK to a 2xx (or any ACK no transaction absorbed): dialog business.
    Ack {
        /// The ACK.
        request: Request,
        /// Its source.
        from: Peer,
    },
    /// A response to one of our requests (provisional, final, or a 2xx retransmission).
    Response {
        /// The client transaction.
        tx: TxId,
        /// The response.
        response: Response,
    },
    /// No final response in time (timer B/F), or a 2xx never ACKed (timer L).
    Timeout {
        /// The transaction that timed out.
        tx: TxId,
    },
}

/// Every transaction of one SIP endpoint.
#[derive(Debug)]
pub struct Endpoint {
    config: TimerConfig,
    next_id: u64,
    servers: HashMap<TxId, ServerTx>,
    clients: HashMap<TxId, ClientTx>,
    server_index: HashMap<ServerKey, TxId>,
    client_index: HashMap<(String, Method), TxId>,
    accepted_index: HashMap<(String, u32), TxId>,
    timers: BinaryHeap<Scheduled>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TxEvent>,
}

/// RFC 3261 17.2.3 matching: branch, sent-by, and method (ACK matches INVITE).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServerKey {
    branch: String,
    sent_by: String,
    invite: bool,
    cancel: bool,
}

impl ServerKey {
    fn of(req: &Request) -> Option<ServerKey> {
        let via = req.top_via()?;
        Some(ServerKey {
            branch: via.branch()?.to_string(),
            sent_by: via.sent_by(),
            invite: matches!(req.method, Method::Invite | Method::Ack),
            cancel: req.method == Method::Cancel,
        })
    }
}

impl Endpoint {
    /// An endpoint with the given timer values (RFC defaults: [`TimerConfig::default`]).
    pub fn new(config: TimerConfig) -> Endpoint {
        Endpoint {
            config,
            next_id: 1,
            servers: HashMap::new(),
            clients: HashMap::new(),
            server_index: HashMap::new(),
            client_index: HashMap::new(),
            accepted_index: HashMap::new(),
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn alloc_id(&mut self) -> TxId {
        let id = TxId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Feeds a parsed, validated request from `from`.
    pub fn handle_request(&mut self, now: Instant, mut request: Request, from: Peer) {
        let Some(key) = ServerKey::of(&request) else {
            return;
        };
        stamp_received(&mut request, from);
        if let Some(id) = self.server_index.get(&key).copied() {
            if let Some(tx) = self.servers.get_mut(&id) {
                let out = tx.on_retransmission(&request, now, &self.config);
                self.apply_server(id, out, now);
                return;
            }
        }
        match request.method {
            Method::Ack => self.handle_stray_ack(now, request, from),
            Method::Cancel => self.handle_cancel(now, request, key, from),
            _ => {
                let id = self.alloc_id();
                let tx = ServerTx::new(&request, from, key.clone());
                let is_invite = request.method == Method::Invite;
                self.servers.insert(id, tx);
                self.server_index.insert(key, id);
                if is_invite {
                    // The caller hears 100 Trying at once, so it stops retransmitting.
                    let trying = Response::to_request(&request, 100, reason_phrase(100));
                    self.respond(now, id, trying);
                }
                self.events.push_back(TxEvent::Request {
                    tx: id,
                    request,
                    from,
                });
            }
        }
    }

    fn handle_stray_ack(&mut self, now: Instant, request: Request, from: Peer) {
        // An ACK to a 2xx has its own branch: match it to the accepted INVITE by dialog,
        // its tags included. One that names our Call-ID and CSeq with other tags is
        // dropped: it neither stops the 2xx nor reaches the dialog.
        if let (Some(cid), Some(cseq)) = (request.call_id(), request.cseq()) {
            let key = (cid.to_string(), cseq.seq);
            if let Some(id) = self.accepted_index.get(&key).copied() {
                if let Some(tx) = self.servers.get_mut(&id) {
                    if !tx.acked_by(&request) {
                        return;
                    }
                    tx.acked();
                }
                self.accepted_index.remove(&key);
                self.apply_server(id, Output::default(), now);
            }
        }
        self.events.push_back(TxEvent::Ack { request, from });
    }

    fn handle_cancel(&mut self, now: Instant, cancel: Request, key: ServerKey, from: Peer) {
        let invite_key = ServerKey {
            invite: true,
            cancel: false,
            ..key.clone()
        };
        let id = self.alloc_id();
        self.servers
            .insert(id, ServerTx::new(&cancel, from, key.clone()));
        self.server_index.insert(key, id);
        let target = self.server_index.get(&invite_key).copied();
        let found = target.and_then(|t| {
            self.servers
                .get(&t)
                .map(|tx| (t, tx.is_live(), tx.is_proceeding()))
        });
        match found {
            // RFC 3261 9.2: 200 whenever the INVITE transaction exists; it only has an
            // effect while no final response was sent.
            Some((invite, true, proceeding)) => {
                self.respond(now, id, Response::to_request(&cancel, 200, "OK"));
                if proceeding {
                    self.events.push_back(TxEvent::Cancelled { invite });
                }
            }
            _ => {
                let r = Response::to_request(&cancel, 481, reason_phrase(481));
                self.respond(now, id, r);
            }
        }
    }

    /// Sends a response on server transaction `tx` (ignored if it no longer exists).
    pub fn respond(&mut self, now: Instant, tx: TxId, response: Response) {
        let Some(server) = self.servers.get_mut(&tx) else {
            return;
        };
        let status = response.status;
        let out = server.on_response(response, now, &self.config);
        if (200..300).contains(&status) && server.is_invite() {
            if let Some(k) = server.dialog_key() {
                self.accepted_index.insert(k, tx);
            }
        }
        self.apply_server(tx, out, now);
    }

    /// Whether server transaction `tx` still awaits its final response.
    pub fn is_pending(&self, tx: TxId) -> bool {
        self.servers.get(&tx).is_some_and(|s| s.is_proceeding())
    }

    /// Starts a client transaction for `request` (which must carry its top Via with a fresh branch).
    pub fn send_request(&mut self, now: Instant, request: Request, to: Peer) -> Option<TxId> {
        let branch = request.top_via()?.branch()?.to_string();
        let method = request.method.clone();
        let id = self.alloc_id();
        let (tx, out) = ClientTx::start(request, to, now, &self.config);
        self.clients.insert(id, tx);
        self.client_index.insert((branch, method), id);
        self.apply_client(id, out, now);
        Some(id)
    }

    /// Forgets a client transaction whose final response never came: RFC 3261 9.1 lets the
    /// UAC give up on a cancelled INVITE 64·T1 after the CANCEL.
    pub fn abandon(&mut self, tx: TxId) {
        if let Some(c) = self.clients.remove(&tx) {
            self.client_index.remove(c.key());
        }
    }

    /// Sends a message outside any transaction (ACK for 2xx, stateless replies).
    pub fn send_stateless(&mut self, to: Peer, data: Vec<u8>) {
        self.transmits.push_back(Transmit { to, data });
    }

    /// Feeds a parsed response; unmatched responses are dropped (RFC 3261 17.1.3).
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        let Some(branch) = response
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
        else {
            return;
        };
        let Some(cseq) = response.cseq() else { return };
        let Some(id) = self.client_index.get(&(branch, cseq.method)).copied() else {
            return;
        };
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let out = tx.on_response(response, now, &self.config);
        self.apply_client(id, out, now);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(top) = self.timers.peek() {
            if top.at > now {
                break;
            }
            let Some(s) = self.timers.pop() else { break };
            if let Some(tx) = self.servers.get_mut(&s.tx) {
                if tx.timer_due(s.timer) == Some(s.at) {
                    let out = tx.on_timer(s.timer, now, &self.config);
                    self.apply_server(s.tx, out, now);
                }
            } else if let Some(tx) = self.clients.get_mut(&s.tx) {
                if tx.timer_due(s.timer) == Some(s.at) {
                    let out = tx.on_timer(s.timer, now, &self.config);
                    self.apply_client(s.tx, out, now);
                }
            }
        }
    }

    /// When [`Endpoint::handle_timeout`] should next be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Drop stale heap entries so an idle endpoint does not wake for nothing.
        while let Some(top) = self.timers.peek() {
            let live = match (self.servers.get(&top.tx), self.clients.get(&top.tx)) {
                (Some(s), _) => s.timer_due(top.timer) == Some(top.at),
                (_, Some(c)) => c.timer_due(top.timer) == Some(top.at),
                _ => false,
            };
            if live {
                return Some(top.at);
            }
            self.timers.pop();
        }
        None
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    /// How many transactions are alive (for tests and metrics).
    pub fn len(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// Requests sent that have had no final response yet (a stopping switch waits for
    /// its BYEs and CANCELs to be answered).
    pub fn unanswered_requests(&self) -> usize {
        self.clients.values().filter(|c| !c.is_answered()).count()
    }

    /// Whether no transaction is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply_server(&mut self, id: TxId, out: Output, _now: Instant) {
        self.apply(id, out);
        if self.servers.get(&id).is_some_and(|t| t.is_terminated()) {
            if let Some(tx) = self.servers.remove(&id) {
                self.server_index.remove(tx.key());
                if let Some(k) = tx.dialog_key() {
                    if self.accepted_index.get(&k) == Some(&id) {
                        self.accepted_index.remove(&k);
                    }
                }
            }
        }
    }

    fn apply_client(&mut self, id: TxId, out: Output, _now: Instant) {
        self.apply(id, out);
        if self.clients.get(&id).is_some_and(|t| t.is_terminated()) {
            if let Some(tx) = self.clients.remove(&id) {
                self.client_index.remove(tx.key());
            }
        }
    }

    fn apply(&mut self, id: TxId, out: Output) {
        for t in out.transmits {
            self.transmits.push_back(t);
        }
        for (timer, at) in out.timers {
            self.timers.push(Scheduled { at, tx: id, timer });
        }
        if let Some(r) = out.response {
            self.events.push_back(TxEvent::Response {
                tx: id,
                response: r,
            });
        }
        if out.timed_out {
            self.events.push_back(TxEvent::Timeout { tx: id });
        }
    }
}

/// What one transaction step produced.
#[derive(Debug, Default)]
struct Output {
    transmits: Vec<Transmit>,
    timers: Vec<(Timer, Instant)>,
    response: Option<Response>,
    timed_out: bool,
}

/// The delay before the transaction layer gives up on a request (64·T1).
pub fn transaction_timeout(config: &TimerConfig) -> Duration {
    config.t1 * 64
}

#[cfg(test)]
mod tests;
