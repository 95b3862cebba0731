//! A caller's keys as the media task hears them: a run of RFC 4733 telephone-event packets
//! (source, timestamp, payload) through the parser and the deduper, and the same bytes as
//! G.711 audio through the in-band tone detector, with keys held to a person's pace.
#![no_main]

use arbitrary::Arbitrary;
use hotline_media::detect::{EventDeduper, ToneDetector};
use hotline_media::dtmf::TelephoneEvent;
use hotline_media::g711::Codec;
use hotline_media::key_pace::KeyPace;
use libfuzzer_sys::fuzz_target;

/// One packet of the caller's stream.
#[derive(Debug, Arbitrary)]
struct Packet {
    ssrc: u8,
    timestamp: u32,
    /// Milliseconds since the packet before.
    gap_ms: u16,
    payload: Vec<u8>,
    /// Heard as audio (in-band) rather than as an event.
    in_band: bool,
    alaw: bool,
}

fuzz_target!(|packets: Vec<Packet>| {
    let (mut deduper, mut tones, mut pace) =
        (EventDeduper::new(), ToneDetector::new(), KeyPace::default());
    let mut now_ms = 0u64;
    let mut samples = Vec::new();
    for p in packets {
        now_ms += u64::from(p.gap_ms);
        let key = if p.in_band {
            let codec = if p.alaw { Codec::Pcma } else { Codec::Pcmu };
            samples.resize(p.payload.len(), 0);
            let n = codec.decode_into(&p.payload, &mut samples);
            assert!(n <= p.payload.len());
            tones.feed(&samples[..n])
        } else {
            match TelephoneEvent::parse(&p.payload) {
                Ok(event) => {
                    let back = TelephoneEvent::parse(&event.to_bytes());
                    assert_eq!(back, Ok(event));
                    deduper.on_event(u32::from(p.ssrc), p.timestamp, &event)
                }
                Err(_) => None,
            }
        };
        if let Some(key) = key {
            assert!("0123456789*#ABCD".contains(key), "key {key:?}");
            let _ = pace.take(now_ms);
        }
    }
});
