//! The caller's one outgoing RTP stream. Prompts, music, the agent and the survey all go out
//! with the switch's SSRC and continuous sequence numbers and timestamps, so the caller's
//! phone (and any SBC between) sees one stream from answer to hang-up and never has to
//! re-sync its jitter buffer on a new SSRC.

use crate::rtp::RtpPacket;

/// An agent packet whose sequence number jumps more than this is a restarted sender, not
/// loss: the stream is taken over afresh.
const MAX_SEQ_JUMP: u16 = 1_000;
/// Likewise a timestamp jumping more than this (one second) ahead of the stream, or back.
const MAX_TS_JUMP: u64 = 8_000;

/// What the stream carries at the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Nothing since the last talk spurt ended: the next packet starts a new one.
    Idle,
    /// Frames the switch plays.
    Player,
    /// The agent's packets with this SSRC, rewritten.
    Agent(u32),
}

/// How the agent's numbering maps onto ours: the newest agent packet and what it became.
#[derive(Debug, Clone, Copy, Default)]
struct Follow {
    their_seq: u16,
    their_ts: u32,
    our_seq: u16,
    our_at: u64,
    /// When the newest agent packet arrived, to tell silence from a timestamp jump.
    seen_at: u64,
    /// Sequence steps since the takeover (capped), so older packets can be told apart.
    advanced: u16,
}

/// Header fields for one packet the switch itself sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) seq: u16,
    pub(crate) timestamp: u32,
    pub(crate) marker: bool,
}

/// The switch's stream towards the caller.
#[derive(Debug)]
pub(crate) struct OutStream {
    ssrc: u32,
    /// Timestamp of stream position 0, random as RFC 3550 asks.
    ts_origin: u32,
    next_seq: u16,
    /// Stream position (samples since the answer, possibly ahead of the clock) just after
    /// the last packet sent.
    next_at: u64,
    source: Source,
    follow: Follow,
    /// The RFC 4733 event being carried on a generated stream: its timestamp in the sender's
    /// stream and in ours, so every packet of one event keeps one timestamp.
    event: Option<(u32, u32)>,
}

impl OutStream {
    /// A stream with a random `ssrc`, first sequence number and timestamp origin.
    pub(crate) fn new(ssrc: u32, first_seq: u16, ts_origin: u32) -> OutStream {
        OutStream {
            ssrc,
            ts_origin,
            next_seq: first_seq,
            next_at: 0,
            source: Source::Idle,
            follow: Follow::default(),
            event: None,
        }
    }

    pub(crate) fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Stamps the next played frame of `len` samples, `now` samples after the answer; the
    /// first frame of a spurt gets the marker and a timestamp that counted the silence.
    pub(crate) fn play(&mut self, len: u64, now: u64) -> Stamp {
        let marker = self.source != Source::Player;
        let at = if marker {
            now.max(self.next_at)
        } else {
            self.next_at
        };
        self.source = Source::Player;
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        self.next_at = at + len;
        Stamp {
            seq,
            timestamp: self.timestamp_at(at),
            marker,
        }
    }

    /// Stamps an RFC 4733 event packet onto a stream the switch generates (a mix): the
    /// sequence goes on, and the event is timed at the stream's position when first seen.
    pub(crate) fn event(&mut self, their_ts: u32) -> Stamp {
        let timestamp = match self.event {
            Some((theirs, ours)) if theirs == their_ts => ours,
            _ => {
                let ours = self.timestamp_at(self.next_at);
                self.event = Some((their_ts, ours));
                ours
            }
        };
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        Stamp {
            seq,
            timestamp,
            marker: false,
        }
    }

    /// The current talk spurt ended (a play finished or was cut, the agent left).
    pub(crate) fn pause(&mut self) {
        self.source = Source::Idle;
    }

    /// Rewrites an agent packet carrying `len` samples to continue the stream; false if it
    /// belongs before the agent's takeover and must not be sent.
    pub(crate) fn follow(&mut self, packet: &mut RtpPacket<&mut [u8]>, len: u64, now: u64) -> bool {
        let (ssrc, seq, ts) = (packet.ssrc(), packet.sequence(), packet.timestamp());
        if self.source != Source::Agent(ssrc) || self.jumped(seq, ts, now) {
            self.follow = Follow {
                their_seq: seq,
                their_ts: ts,
                our_seq: self.next_seq,
                our_at: now.max(self.next_at),
                seen_at: now,
                advanced: 0,
            };
            self.source = Source::Agent(ssrc);
            // The packet takes the next number; a single agent packet before a play or
            // another takeover must not have its number reused.
            self.next_seq = self.next_seq.wrapping_add(1);
            packet.set_marker(true);
        }
        let f = &mut self.follow;
        let dseq = seq.wrapping_sub(f.their_seq) as i16;
        if dseq < 0 && dseq.unsigned_abs() > f.advanced {
            return false;
        }
        let our_seq = f.our_seq.wrapping_add(dseq as u16);
        let dts = i64::from(ts.wrapping_sub(f.their_ts) as i32);
        let at = u64::try_from(i64::try_from(f.our_at).unwrap_or(i64::MAX) + dts).unwrap_or(0);
        if dseq > 0 {
            f.advanced = f.advanced.saturating_add(dseq as u16).min(i16::MAX as u16);
            (f.their_seq, f.their_ts, f.our_seq, f.our_at) = (seq, ts, our_seq, at);
            f.seen_at = now;
            self.next_seq = our_seq.wrapping_add(1);
        }
        self.next_at = self.next_at.max(at + len);
        packet.set_sequence(our_seq);
        packet.set_timestamp(self.timestamp_at(at));
        packet.set_ssrc(self.ssrc);
        true
    }

    /// Whether the agent's numbering jumped (a restarted phone), so mapping it would throw
    /// the caller's stream far off; silence (the timestamp moving on with the clock) is not.
    fn jumped(&self, seq: u16, ts: u32, now: u64) -> bool {
        let f = &self.follow;
        let dseq = seq.wrapping_sub(f.their_seq) as i16;
        let dts = ts.wrapping_sub(f.their_ts) as i32;
        let elapsed = now.saturating_sub(f.seen_at);
        dseq.unsigned_abs() > MAX_SEQ_JUMP
            || (dseq > 0 && (dts < 0 || u64::from(dts.unsigned_abs()) > elapsed + MAX_TS_JUMP))
    }

    fn timestamp_at(&self, at: u64) -> u32 {
        self.ts_origin.wrapping_add(at as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent_packet(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, 8];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xD5; 160]);
        p
    }

    /// Follows an agent packet and returns (sent, seq, ts, ssrc, marker).
    fn follow(
        s: &mut OutStream,
        seq: u16,
        ts: u32,
        ssrc: u32,
        now: u64,
    ) -> (bool, u16, u32, u32, bool) {
        let mut bytes = agent_packet(seq, ts, ssrc);
        let mut p = RtpPacket::parse(&mut bytes[..]).unwrap();
        let sent = s.follow(&mut p, 160, now);
        (sent, p.sequence(), p.timestamp(), p.ssrc(), p.marker())
    }

    #[test]
    fn prompt_then_agent_then_survey_is_one_stream() {
        let mut s = OutStream::new(0xabcd, 65_534, 1_000);
        let first = s.play(160, 0);
        assert_eq!(
            first,
            Stamp {
                seq: 65_534,
                timestamp: 1_000,
                marker: true
            }
        );
        let second = s.play(160, 160);
        assert_eq!(
            second,
            Stamp {
                seq: 65_535,
                timestamp: 1_160,
                marker: false
            }
        );
        s.pause();
        // The agent answers 1 s later with its own numbering.
        let a = follow(&mut s, 500, 90_000, 77, 8_000);
        assert_eq!(
            a,
            (true, 0, 9_000, 0xabcd, true),
            "seq wraps on, ts counts the silence"
        );
        let b = follow(&mut s, 501, 90_160, 77, 8_160);
        assert_eq!(b, (true, 1, 9_160, 0xabcd, false));
        // A packet overtaken by its successor keeps its place.
        let c = follow(&mut s, 503, 90_480, 77, 8_480);
        let late = follow(&mut s, 502, 90_320, 77, 8_500);
        assert_eq!((c.1, late.1), (3, 2));
        assert_eq!(late.2, 9_320);
        s.pause();
        let survey = s.play(160, 16_000);
        assert_eq!(
            survey,
            Stamp {
                seq: 4,
                timestamp: 17_000,
                marker: true
            }
        );
    }

    #[test]
    fn events_on_a_generated_stream_keep_one_timestamp_and_take_sequence_numbers() {
        let mut s = OutStream::new(1, 10, 100);
        s.play(160, 0);
        let a = s.event(7_000);
        let b = s.event(7_000);
        assert_eq!((a.seq, b.seq), (11, 12));
        assert_eq!(
            (a.timestamp, b.timestamp),
            (260, 260),
            "one event, one timestamp"
        );
        let frame = s.play(160, 160);
        assert_eq!((frame.seq, frame.timestamp, frame.marker), (13, 260, false));
        assert_eq!(s.event(9_000).timestamp, 420, "the next event");
    }

    #[test]
    fn a_single_agent_packet_keeps_its_sequence_number_to_itself() {
        let mut s = OutStream::new(1, 100, 0);
        assert_eq!(follow(&mut s, 7, 0, 9, 0).1, 100);
        assert_eq!(s.play(160, 160).seq, 101);
        s.pause();
        assert_eq!(follow(&mut s, 500, 0, 10, 480).1, 102);
        assert_eq!(follow(&mut s, 9, 0, 11, 640).1, 103, "taken over again");
    }

    #[test]
    fn packets_from_before_the_takeover_are_not_sent() {
        let mut s = OutStream::new(1, 100, 0);
        s.play(160, 0);
        s.pause();
        assert!(follow(&mut s, 50, 0, 9, 320).0);
        assert!(
            !follow(&mut s, 49, 0, 9, 340).0,
            "older than the first packet taken over"
        );
    }

    #[test]
    fn a_restarted_agent_phone_is_taken_over_again() {
        let mut s = OutStream::new(1, 0, 0);
        follow(&mut s, 10, 1_000, 9, 0);
        follow(&mut s, 11, 1_160, 9, 160);
        let restarted = follow(&mut s, 40_000, 7, 9, 320);
        assert_eq!(restarted, (true, 2, 320, 1, true));
        // Silence suppression: 3 s without packets, timestamps kept counting.
        let after_silence = follow(&mut s, 40_001, 7 + 24_160, 9, 24_480);
        assert_eq!(after_silence.1, 3);
        assert_eq!(after_silence.2, 24_480);
    }

    #[test]
    fn sequence_numbers_keep_mapping_past_half_the_space() {
        let mut s = OutStream::new(1, 0, 0);
        for n in 0..40_000u32 {
            let seq = (n % 65_536) as u16;
            let (sent, ours, ..) = follow(
                &mut s,
                seq.wrapping_add(30_000),
                n * 160,
                9,
                u64::from(n) * 160,
            );
            assert!(sent);
            assert_eq!(ours, seq);
        }
    }
}
