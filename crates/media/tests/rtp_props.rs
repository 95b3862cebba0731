//! The hand-written RTP view agrees with the `rtp` crate, and never panics on any bytes.

use bytes::Bytes;
use hotline_media::rtp::RtpPacket;
use proptest::prelude::*;
use webrtc_util::marshal::{Marshal, Unmarshal};

/// The fields of a packet to build by hand.
#[derive(Debug, Clone)]
struct Spec {
    marker: bool,
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    csrcs: Vec<u32>,
    extension: Option<(u16, Vec<u8>)>,
    payload: Vec<u8>,
    padding: Option<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..16),
        // RFC 3550 generic extensions (not the RFC 8285 profiles, which `rtp` decodes itself).
        prop::option::of((
            any::<u16>().prop_filter("generic profile", |p| *p != 0xBEDE && *p & 0xFFF0 != 0x1000),
            (0usize..5).prop_flat_map(|w| prop::collection::vec(any::<u8>(), w * 4)),
        )),
        prop::collection::vec(any::<u8>(), 0..320),
        prop::option::of(1u8..=255),
    )
        .prop_map(
            |(marker, pt, seq, ts, ssrc, csrcs, extension, payload, padding)| Spec {
                marker,
                pt,
                seq,
                ts,
                ssrc,
                csrcs,
                extension,
                payload,
                padding,
            },
        )
}

fn build(s: &Spec) -> Vec<u8> {
    let mut b0 = 0x80 | s.csrcs.len() as u8;
    if s.padding.is_some() {
        b0 |= 0x20;
    }
    if s.extension.is_some() {
        b0 |= 0x10;
    }
    let mut p = vec![b0, (u8::from(s.marker) << 7) | s.pt];
    p.extend_from_slice(&s.seq.to_be_bytes());
    p.extend_from_slice(&s.ts.to_be_bytes());
    p.extend_from_slice(&s.ssrc.to_be_bytes());
    for c in &s.csrcs {
        p.extend_from_slice(&c.to_be_bytes());
    }
    if let Some((profile, data)) = &s.extension {
        p.extend_from_slice(&profile.to_be_bytes());
        p.extend_from_slice(&((data.len() / 4) as u16).to_be_bytes());
        p.extend_from_slice(data);
    }
    p.extend_from_slice(&s.payload);
    if let Some(n) = s.padding {
        p.extend(std::iter::repeat_n(0, usize::from(n) - 1));
        p.push(n);
    }
    p
}

fn assert_agrees(bytes: &[u8]) {
    let theirs = rtp::packet::Packet::unmarshal(&mut &bytes[..]).expect("rtp crate parses it");
    let ours = RtpPacket::parse(bytes).expect("we parse it");
    let h = &theirs.header;
    assert_eq!(ours.version(), h.version);
    assert_eq!(ours.padding(), h.padding);
    assert_eq!(ours.extension(), h.extension);
    assert_eq!(ours.marker(), h.marker);
    assert_eq!(ours.payload_type(), h.payload_type);
    assert_eq!(ours.sequence(), h.sequence_number);
    assert_eq!(ours.timestamp(), h.timestamp);
    assert_eq!(ours.ssrc(), h.ssrc);
    let csrcs: Vec<u32> = (0..ours.csrc_count())
        .filter_map(|i| ours.csrc(i))
        .collect();
    assert_eq!(csrcs, h.csrc);
    assert_eq!(ours.payload(), &theirs.payload[..]);
}

proptest! {
    #[test]
    fn agrees_with_the_rtp_crate_on_hand_built_packets(s in spec()) {
        let bytes = build(&s);
        assert_agrees(&bytes);
        let ours = RtpPacket::parse(&bytes[..]).unwrap();
        prop_assert_eq!(ours.payload(), &s.payload[..]);
    }

    #[test]
    fn agrees_with_the_rtp_crate_on_packets_it_marshals(
        s in spec(),
        one_byte_ext in prop::collection::vec((1u8..15, prop::collection::vec(any::<u8>(), 1..17)), 0..4),
        pad in any::<bool>(),
    ) {
        let mut header = rtp::header::Header {
            version: 2,
            padding: pad,
            marker: s.marker,
            payload_type: s.pt,
            sequence_number: s.seq,
            timestamp: s.ts,
            ssrc: s.ssrc,
            csrc: s.csrcs.clone(),
            ..Default::default()
        };
        for (id, data) in &one_byte_ext {
            header.extension = true;
            header.extension_profile = 0xBEDE;
            header.set_extension(*id, Bytes::copy_from_slice(data)).unwrap();
        }
        let packet = rtp::packet::Packet { header, payload: Bytes::from(s.payload.clone()) };
        let bytes = packet.marshal().unwrap();
        assert_agrees(&bytes);
        let ours = RtpPacket::parse(&bytes[..]).unwrap();
        prop_assert_eq!(ours.payload(), &s.payload[..]);
    }

    #[test]
    fn rewriting_changes_only_the_rewritten_field(s in spec(), pt in 0u8..128, seq: u16, ts: u32, ssrc: u32) {
        let mut bytes = build(&s);
        let mut p = RtpPacket::parse(&mut bytes[..]).unwrap();
        p.set_payload_type(pt);
        p.set_sequence(seq);
        p.set_timestamp(ts);
        p.set_ssrc(ssrc);
        prop_assert_eq!((p.marker(), p.payload_type(), p.sequence(), p.timestamp(), p.ssrc()),
                        (s.marker, pt, seq, ts, ssrc));
        prop_assert_eq!(p.payload(), &s.payload[..]);
        let csrcs: Vec<u32> = (0..p.csrc_count()).filter_map(|i| p.csrc(i)).collect();
        prop_assert_eq!(csrcs, s.csrcs);
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(mut p) = RtpPacket::parse(&mut bytes[..]) {
            let range = p.payload_range();
            prop_assert!(range.start <= range.end);
            let _ = (p.version(), p.padding(), p.extension(), p.marker(), p.payload_type());
            let _ = (p.sequence(), p.timestamp(), p.ssrc(), p.csrc(15), p.payload().len());
            p.set_payload_type(127);
            p.set_marker(true);
            p.set_sequence(1);
            p.set_timestamp(2);
            p.set_ssrc(3);
            p.payload_mut().fill(0);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_other_views(bytes in prop::collection::vec(any::<u8>(), 0..64), text in ".{0,400}") {
        let _ = hotline_media::dtmf::TelephoneEvent::parse(&bytes);
        let _ = hotline_media::sdp::parse(&text);
    }
}

/// SDP made of plausible lines in any order must not panic either.
fn sdp_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("v=0".to_owned()),
        "c=IN IP[46] [0-9a-f.:/]{0,20}",
        "m=(audio|video) [0-9/]{0,7} RTP/AVPF? [0-9 ]{0,12}",
        "a=rtpmap:[0-9]{0,4} [A-Za-z-]{0,16}/[0-9]{0,6}(/[0-9])?",
        "a=(sendrecv|sendonly|recvonly|inactive|ptime:20)",
        "[a-z]=.{0,20}",
    ]
}

proptest! {
    #[test]
    fn plausible_sdp_never_panics(lines in prop::collection::vec(sdp_line(), 0..12)) {
        let _ = hotline_media::sdp::parse(&lines.join("\r\n"));
    }
}
