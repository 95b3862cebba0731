//! The ACKs the switch sent for 2xx answers to its own INVITEs outside a call's legs (the
//! re-INVITE moving a consulted agent onto a call, a supervisor's phone rung by `hotline
//! monitor`), kept while the answering phone may retransmit its 2xx (RFC 6026: the client
//! transaction passes retransmissions up for 64·T1), so a lost ACK is sent again instead of
//! the phone hanging up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hotline_sip::transaction::{Peer, TxId};

/// How long a 2xx may be retransmitted: 64·T1 with T1 = 500 ms.
const RETRANSMISSIONS_FOR: Duration = Duration::from_secs(32);

/// ACKs by the transaction of the INVITE they answer.
#[derive(Debug, Default)]
pub(crate) struct SentAcks {
    by_tx: HashMap<TxId, SentAck>,
}

#[derive(Debug)]
struct SentAck {
    peer: Peer,
    bytes: Vec<u8>,
    until: Instant,
}

impl SentAcks {
    /// Remembers the ACK sent to `peer` for the 2xx of `tx`.
    pub(crate) fn remember(&mut self, now: Instant, tx: TxId, peer: Peer, bytes: Vec<u8>) {
        let until = now + RETRANSMISSIONS_FOR;
        self.by_tx.insert(tx, SentAck { peer, bytes, until });
    }

    /// The ACK to send again for a retransmitted 2xx of `tx`, if one was sent.
    pub(crate) fn again(&self, tx: TxId) -> Option<(Peer, &[u8])> {
        self.by_tx.get(&tx).map(|a| (a.peer, a.bytes.as_slice()))
    }

    /// Forgets the ACKs whose 2xx can no longer come.
    pub(crate) fn prune(&mut self, now: Instant) {
        self.by_tx.retain(|_, a| a.until > now);
    }

    /// How many are kept (nothing grows without bound).
    pub(crate) fn len(&self) -> usize {
        self.by_tx.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::transaction::Transport;

    #[test]
    fn an_ack_is_there_for_retransmissions_then_forgotten() {
        let mut acks = SentAcks::default();
        let t0 = Instant::now();
        let tx = TxId(7);
        let peer = Peer {
            addr: "127.0.0.1:5070".parse().unwrap(),
            transport: Transport::Udp,
        };
        acks.remember(t0, tx, peer, b"ACK".to_vec());
        assert_eq!(acks.again(tx).map(|(_, b)| b), Some(&b"ACK"[..]));
        assert!(acks.again(TxId(8)).is_none());
        acks.prune(t0 + Duration::from_secs(31));
        assert_eq!(acks.len(), 1);
        acks.prune(t0 + RETRANSMISSIONS_FOR);
        assert_eq!(acks.len(), 0);
    }
}
