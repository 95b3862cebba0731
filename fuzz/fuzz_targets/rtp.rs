//! A datagram on a media port into the RTP view the relay uses: every field read, the
//! payload range inside the packet, and the in-place rewrites (payload type, sequence,
//! timestamp, SSRC, transcoding) never reaching outside it.
#![no_main]

use hotline_media::dtmf::TelephoneEvent;
use hotline_media::g711::{transcode_in_place, Codec};
use hotline_media::rtp::{RtpPacket, FIXED_HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    let Ok(mut packet) = RtpPacket::parse(buf.as_mut_slice()) else {
        return;
    };
    assert_eq!(packet.version(), 2);
    let range = packet.payload_range();
    assert!(FIXED_HEADER_LEN <= range.start && range.start <= range.end);
    assert!(range.end <= data.len());
    assert_eq!(packet.payload(), &data[range.clone()]);
    let _ = (packet.padding(), packet.extension(), packet.marker());
    for i in 0..=packet.csrc_count() {
        let _ = packet.csrc(i);
    }
    let (pt, seq, ts, ssrc) = (
        packet.payload_type(),
        packet.sequence(),
        packet.timestamp(),
        packet.ssrc(),
    );
    if let Ok(event) = TelephoneEvent::parse(packet.payload()) {
        let _ = event.digit();
    }
    packet.set_payload_type(pt ^ 8);
    packet.set_marker(!packet.marker());
    packet.set_sequence(seq.wrapping_add(1));
    packet.set_timestamp(ts.wrapping_add(160));
    packet.set_ssrc(!ssrc);
    transcode_in_place(Codec::Pcmu, Codec::Pcma, packet.payload_mut());
    assert_eq!(packet.payload_range(), range);
    // The rewrites stay in the header and the payload: padding is untouched.
    assert_eq!(buf[range.end..], data[range.end..]);
});
