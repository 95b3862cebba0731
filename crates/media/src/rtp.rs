//! A zero-copy view of an RTP packet (RFC 3550) over the receive buffer.
//!
//! Hand-written rather than the `rtp` crate (successor of the yanked `webrtc-rtp`) because
//! that crate parses into a `Packet` that owns a copy of the payload and `Vec`s of CSRCs and
//! extensions, an allocation per packet; the relay instead validates the header once and
//! rewrites payload type, sequence, timestamp, SSRC and payload in the buffer it received.

use std::ops::Range;

/// Length of the fixed header.
pub const FIXED_HEADER_LEN: usize = 12;

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the fixed header.
    #[error("packet of {0} bytes is shorter than an RTP header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The CSRC list runs past the end of the packet.
    #[error("CSRC list runs past the end of the packet")]
    CsrcOverrun,
    /// The header extension runs past the end of the packet.
    #[error("header extension runs past the end of the packet")]
    ExtensionOverrun,
    /// The padding count is zero or larger than the payload.
    #[error("bad padding count {0}")]
    Padding(u8),
}

/// A validated RTP packet over `B` (`&[u8]` to read, `&mut [u8]` to rewrite in place).
#[derive(Debug)]
pub struct RtpPacket<B> {
    buf: B,
    payload: Range<usize>,
}

impl<B: AsRef<[u8]>> RtpPacket<B> {
    /// Validates the header, CSRCs, extension and padding of `buf`.
    pub fn parse(buf: B) -> Result<RtpPacket<B>, RtpError> {
        let payload = payload_range(buf.as_ref())?;
        Ok(RtpPacket { buf, payload })
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Always 2 once parsed.
    pub fn version(&self) -> u8 {
        self.byte(0) >> 6
    }

    /// Whether the packet ends with padding (excluded from [`RtpPacket::payload`]).
    pub fn padding(&self) -> bool {
        self.byte(0) & 0x20 != 0
    }

    /// Whether a header extension follows the CSRCs.
    pub fn extension(&self) -> bool {
        self.byte(0) & 0x10 != 0
    }

    /// Number of CSRC identifiers.
    pub fn csrc_count(&self) -> usize {
        usize::from(self.byte(0) & 0x0F)
    }

    /// The `i`-th contributing source, if there is one.
    pub fn csrc(&self, i: usize) -> Option<u32> {
        if i >= self.csrc_count() {
            return None;
        }
        Some(self.u32_at(FIXED_HEADER_LEN + 4 * i))
    }

    /// The marker bit (start of a talkspurt, or of a DTMF event).
    pub fn marker(&self) -> bool {
        self.byte(1) & 0x80 != 0
    }

    /// The 7-bit payload type.
    pub fn payload_type(&self) -> u8 {
        self.byte(1) & 0x7F
    }

    /// The sequence number.
    pub fn sequence(&self) -> u16 {
        let b = self.as_bytes();
        u16::from_be_bytes([get(b, 2), get(b, 3)])
    }

    /// The media timestamp, in samples for G.711.
    pub fn timestamp(&self) -> u32 {
        self.u32_at(4)
    }

    /// The synchronisation source.
    pub fn ssrc(&self) -> u32 {
        self.u32_at(8)
    }

    /// Where the payload lies in the packet, padding excluded.
    pub fn payload_range(&self) -> Range<usize> {
        self.payload.clone()
    }

    /// The payload, padding excluded.
    pub fn payload(&self) -> &[u8] {
        self.as_bytes()
            .get(self.payload.clone())
            .unwrap_or_default()
    }

    fn byte(&self, i: usize) -> u8 {
        get(self.as_bytes(), i)
    }

    fn u32_at(&self, i: usize) -> u32 {
        let b = self.as_bytes();
        u32::from_be_bytes([get(b, i), get(b, i + 1), get(b, i + 2), get(b, i + 3)])
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<B> {
    /// Rewrites the payload type, keeping the marker bit.
    pub fn set_payload_type(&mut self, pt: u8) {
        if let Some(b) = self.buf.as_mut().get_mut(1) {
            *b = (*b & 0x80) | (pt & 0x7F);
        }
    }

    /// Rewrites the marker bit.
    pub fn set_marker(&mut self, marker: bool) {
        if let Some(b) = self.buf.as_mut().get_mut(1) {
            *b = (*b & 0x7F) | if marker { 0x80 } else { 0 };
        }
    }

    /// Rewrites the sequence number.
    pub fn set_sequence(&mut self, seq: u16) {
        self.put(2, &seq.to_be_bytes());
    }

    /// Rewrites the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        self.put(4, &ts.to_be_bytes());
    }

    /// Rewrites the SSRC.
    pub fn set_ssrc(&mut self, ssrc: u32) {
        self.put(8, &ssrc.to_be_bytes());
    }

    /// The payload, writable in place (transcoding), padding excluded.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload.clone();
        self.buf.as_mut().get_mut(range).unwrap_or_default()
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(slot) = self.buf.as_mut().get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }
}

/// Byte `i` of `b`; parse has checked the header is there, so the 0 is never seen.
fn get(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Validates `b` and returns where its payload lies.
fn payload_range(b: &[u8]) -> Result<Range<usize>, RtpError> {
    if b.len() < FIXED_HEADER_LEN {
        return Err(RtpError::TooShort(b.len()));
    }
    let first = get(b, 0);
    let version = first >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let mut start = FIXED_HEADER_LEN + 4 * usize::from(first & 0x0F);
    if start > b.len() {
        return Err(RtpError::CsrcOverrun);
    }
    if first & 0x10 != 0 {
        if start + 4 > b.len() {
            return Err(RtpError::ExtensionOverrun);
        }
        let words = usize::from(u16::from_be_bytes([get(b, start + 2), get(b, start + 3)]));
        start += 4 + 4 * words;
        if start > b.len() {
            return Err(RtpError::ExtensionOverrun);
        }
    }
    let mut end = b.len();
    if first & 0x20 != 0 {
        let count = get(b, end - 1);
        if count == 0 || usize::from(count) > end - start {
            return Err(RtpError::Padding(count));
        }
        end -= usize::from(count);
    }
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, pt];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn reads_the_fixed_header() {
        let bytes = packet(0x80 | 8, 513, 160_000, 0xdead_beef, &[1, 2, 3]);
        let p = RtpPacket::parse(&bytes[..]).unwrap();
        assert_eq!(p.version(), 2);
        assert!(p.marker());
        assert_eq!(p.payload_type(), 8);
        assert_eq!(p.sequence(), 513);
        assert_eq!(p.timestamp(), 160_000);
        assert_eq!(p.ssrc(), 0xdead_beef);
        assert_eq!(p.payload(), &[1, 2, 3]);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut bytes = packet(0, 1, 2, 3, &[]);
        bytes[0] = 0x80 | 0x20 | 0x10 | 2;
        bytes.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 9]); // two CSRCs
        bytes.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]); // one-word extension
        bytes.extend_from_slice(&[5, 6, 7]); // payload
        bytes.extend_from_slice(&[0, 0, 3]); // padding
        let p = RtpPacket::parse(&bytes[..]).unwrap();
        assert_eq!((p.csrc(0), p.csrc(1), p.csrc(2)), (Some(7), Some(9), None));
        assert_eq!(p.payload(), &[5, 6, 7]);
    }

    #[test]
    fn rewrites_in_place() {
        let mut bytes = packet(0x80, 1, 2, 3, &[0xFF; 4]);
        let mut p = RtpPacket::parse(&mut bytes[..]).unwrap();
        p.set_payload_type(8);
        p.set_sequence(0xfffe);
        p.set_timestamp(0x0102_0304);
        p.set_ssrc(42);
        p.payload_mut()[0] = 0xD5;
        assert!(p.marker(), "marker kept");
        assert_eq!(
            (p.payload_type(), p.sequence(), p.timestamp(), p.ssrc()),
            (8, 0xfffe, 0x0102_0304, 42)
        );
        assert_eq!(bytes[12], 0xD5);
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(
            RtpPacket::parse(&[0x80u8; 11][..]).unwrap_err(),
            RtpError::TooShort(11)
        );
        let mut v1 = packet(0, 0, 0, 0, &[]);
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1[..]).unwrap_err(), RtpError::Version(1));
        let mut csrc = packet(0, 0, 0, 0, &[]);
        csrc[0] = 0x81;
        assert_eq!(
            RtpPacket::parse(&csrc[..]).unwrap_err(),
            RtpError::CsrcOverrun
        );
        let mut ext = packet(0, 0, 0, 0, &[0xBE, 0xDE, 0, 2, 0, 0, 0, 0]);
        ext[0] = 0x90;
        assert_eq!(
            RtpPacket::parse(&ext[..]).unwrap_err(),
            RtpError::ExtensionOverrun
        );
        let mut pad = packet(0, 0, 0, 0, &[1, 0]);
        pad[0] = 0xA0;
        assert_eq!(
            RtpPacket::parse(&pad[..]).unwrap_err(),
            RtpError::Padding(0)
        );
        let mut pad = packet(0, 0, 0, 0, &[1, 3]);
        pad[0] = 0xA0;
        assert_eq!(
            RtpPacket::parse(&pad[..]).unwrap_err(),
            RtpError::Padding(3)
        );
    }
}
