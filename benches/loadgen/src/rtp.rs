//! RTP: the two tones (the caller's 440 Hz μ-law, the agent's 1000 Hz A-law, the same bytes
//! as `benches/tones.py` makes for SIPp) and one call's stream on its own UDP socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Samples per 20 ms packet at 8 kHz.
pub const SAMPLES: usize = 160;
const RATE: usize = 8000;
/// The tones' amplitude, about -12 dBFS, as in `tones.py`.
const AMPLITUDE: f64 = 8000.0;
/// Every this many ticks (half a second) a call's RTP socket is read empty; otherwise as
/// many datagrams as the tick covers 20 ms intervals.
pub const DRAIN_EVERY: u64 = 25;
/// Datagrams read from a socket at most when it is read empty during the call (a second's).
pub const DRAIN: usize = 50;
/// Datagrams read at most from a call's socket as it closes: everything still queued (a
/// socket buffer holds a few hundred), so none is lost uncounted when the socket goes.
pub const FINAL_DRAIN: usize = 4096;
/// RTP fixed header.
const HEADER: usize = 12;

/// G.711 μ-law encoding of one 16-bit sample.
pub fn ulaw(sample: i16) -> u8 {
    let mut v = i32::from(sample) >> 2;
    let mask: u8 = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    let v = v.min(8159) + (0x84 >> 2);
    let Some(seg) = (0..8).find(|&s| v < (0x40 << s)) else {
        return 0x7F ^ mask;
    };
    ((seg << 4) as u8 | ((v >> (seg + 1)) & 0x0F) as u8) ^ mask
}

/// G.711 A-law encoding of one 16-bit sample.
pub fn alaw(sample: i16) -> u8 {
    let mut v = i32::from(sample) >> 3;
    let mask: u8 = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let Some(seg) = (0..8).find(|&s| v < (0x20 << s)) else {
        return 0x7F ^ mask;
    };
    let bits = if seg < 2 { v >> 1 } else { v >> seg };
    ((seg << 4) as u8 | (bits & 0x0F) as u8) ^ mask
}

/// One second of a tone, encoded: whole periods of 440 and 1000 Hz both fit a second, so
/// it loops without a click.
#[derive(Debug, Clone)]
pub struct Tone {
    bytes: Vec<u8>,
    /// The payload type it is sent as.
    pub payload_type: u8,
}

impl Tone {
    /// `freq` Hz for one second, encoded with `encode`, sent as `payload_type`.
    pub fn new(freq: f64, encode: fn(i16) -> u8, payload_type: u8) -> Tone {
        let bytes = (0..RATE)
            .map(|i| {
                let x =
                    AMPLITUDE * (2.0 * std::f64::consts::PI * freq * i as f64 / RATE as f64).sin();
                encode(x as i16)
            })
            .collect();
        Tone {
            bytes,
            payload_type,
        }
    }

    /// The caller's voice: 440 Hz, μ-law (payload type 0).
    pub fn caller() -> Tone {
        Tone::new(440.0, ulaw, crate::sdp::PCMU)
    }

    /// The agent's voice: 1000 Hz, A-law (payload type 8).
    pub fn agent() -> Tone {
        Tone::new(1000.0, alaw, crate::sdp::PCMA)
    }

    /// The agent's voice in μ-law (payload type 0), for a caller's offer passed on by a proxy.
    pub fn agent_ulaw() -> Tone {
        Tone::new(1000.0, ulaw, crate::sdp::PCMU)
    }

    /// The 20 ms of packet number `n`.
    pub fn frame(&self, n: u64) -> &[u8] {
        let at = (n as usize % (RATE / SAMPLES)) * SAMPLES;
        &self.bytes[at..at + SAMPLES]
    }
}

/// Binds a call's RTP socket on `ip`, any port, not blocking.
pub fn bind(ip: std::net::IpAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// One call's audio: its own socket (the switch latches media to the address it was
/// told), where to send, and what went each way.
#[derive(Debug)]
pub struct Stream {
    socket: UdpSocket,
    peer: Option<SocketAddr>,
    seq: u16,
    ssrc: u32,
    /// Packets sent.
    pub sent: u64,
    /// Packets received (any source, any payload type).
    pub received: u64,
    /// Packets that could not be sent (socket errors).
    pub send_errors: u64,
}

impl Stream {
    /// A stream on `socket` with the given SSRC, not sending until [`Stream::start`].
    pub fn new(socket: UdpSocket, ssrc: u32) -> Stream {
        Stream {
            socket,
            peer: None,
            seq: (ssrc >> 16) as u16,
            ssrc,
            sent: 0,
            received: 0,
            send_errors: 0,
        }
    }

    /// Our address, for the SDP.
    pub fn local(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Starts sending to `peer` from the next tick on.
    pub fn start(&mut self, peer: SocketAddr) {
        self.peer = Some(peer);
    }

    /// Stops sending (receiving goes on until the stream is dropped).
    pub fn stop(&mut self) {
        self.peer = None;
    }

    /// Sends the next 20 ms of `tone`, if started. `buf` is scratch space.
    pub fn send(&mut self, tone: &Tone, buf: &mut Vec<u8>) {
        let Some(peer) = self.peer else {
            return;
        };
        let n = self.sent;
        buf.clear();
        buf.push(0x80);
        buf.push(tone.payload_type & 0x7F);
        buf.extend_from_slice(&self.seq.to_be_bytes());
        buf.extend_from_slice(&((n as u32).wrapping_mul(SAMPLES as u32)).to_be_bytes());
        buf.extend_from_slice(&self.ssrc.to_be_bytes());
        buf.extend_from_slice(tone.frame(n));
        match self.socket.send_to(buf, peer) {
            Ok(_) => {
                self.sent += 1;
                self.seq = self.seq.wrapping_add(1);
            }
            Err(_) => self.send_errors += 1,
        }
    }

    /// Reads up to `most` datagrams waiting, counting what looks like RTP: a tick's share
    /// (one packet per 20 ms interval it covers), [`DRAIN`] now and then, [`FINAL_DRAIN`]
    /// at the end. Reading a tick's share rather than until the socket is empty saves the
    /// `recv` that finds it empty, a third of the generator's system calls.
    pub fn receive(&mut self, buf: &mut [u8], most: usize) {
        for _ in 0..most {
            match self.socket.recv_from(buf) {
                Ok((n, _)) if n >= HEADER && buf[0] >> 6 == 2 => self.received += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tones_are_the_bytes_tones_py_writes() {
        // `python3 benches/tones.py raw OUT 440 pcmu 1` and `... 1000 pcma 1`, first bytes.
        let caller = Tone::caller();
        assert_eq!(
            &caller.frame(0)[..16],
            &[
                0xff, 0xb9, 0xab, 0xa4, 0xa0, 0xa0, 0xa4, 0xaa, 0xb7, 0xe8, 0x3b, 0x2c, 0x25, 0x20,
                0x20, 0x23
            ]
        );
        let agent = Tone::agent();
        assert_eq!(
            &agent.frame(0)[..8],
            &[0xd5, 0x83, 0x8a, 0x83, 0xd5, 0x03, 0x0a, 0x03]
        );
    }

    #[test]
    fn g711_edges() {
        assert_eq!(ulaw(0), 0xFF);
        assert_eq!(ulaw(i16::MAX), 0x80);
        assert_eq!(ulaw(i16::MIN), 0x00);
        assert_eq!(alaw(0), 0xD5);
        assert_eq!(alaw(i16::MAX), 0xAA);
        assert_eq!(alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn a_frame_loops_every_second() {
        let t = Tone::caller();
        assert_eq!(t.frame(0), t.frame(50));
        assert_eq!(t.frame(49).len(), SAMPLES);
    }

    #[test]
    fn a_stream_sends_rtp_that_the_other_end_counts() {
        let ip = "127.0.0.1".parse().unwrap();
        let mut a = Stream::new(bind(ip).unwrap(), 1);
        let mut b = Stream::new(bind(ip).unwrap(), 2);
        a.start(b.local().unwrap());
        let (tone, mut buf) = (Tone::caller(), Vec::new());
        a.send(&tone, &mut buf);
        a.send(&tone, &mut buf);
        assert_eq!(buf.len(), HEADER + SAMPLES);
        std::thread::sleep(std::time::Duration::from_millis(20));
        b.receive(&mut [0u8; 2048], DRAIN);
        assert_eq!((a.sent, b.received), (2, 2));
    }
}
