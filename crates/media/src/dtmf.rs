//! RFC 4733 telephone-events: how phones send keypresses (DTMF) as RTP, so digits survive
//! compression and transcoding.

/// Length of one event block.
pub const EVENT_LEN: usize = 4;

/// Why a payload is not a telephone-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    /// Shorter than one 4-byte event block.
    #[error("telephone-event payload of {0} bytes, need 4")]
    TooShort(usize),
}

/// One telephone-event block, copied out of the payload (it is 4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D`, 16 flash.
    pub event: u8,
    /// Set on the last packets of the event.
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first event block of `payload`.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let [event, flags, d0, d1] = match payload.get(..EVENT_LEN) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => return Err(DtmfError::TooShort(payload.len())),
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The block as it goes on the wire.
    pub fn to_bytes(self) -> [u8; EVENT_LEN] {
        let [d0, d1] = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        [self.event, flags, d0, d1]
    }

    /// The keypad character of a DTMF event, `None` for other events.
    pub fn digit(self) -> Option<char> {
        const KEYS: &[u8; 16] = b"0123456789*#ABCD";
        KEYS.get(usize::from(self.event)).map(|&k| char::from(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_end_packet_of_digit_five() {
        let e = TelephoneEvent::parse(&[5, 0x80 | 10, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.digit(), Some('5'));
        assert_eq!(e.to_bytes(), [5, 0x8A, 0x03, 0x20]);
    }

    #[test]
    fn star_hash_and_flash() {
        let key = |event| {
            TelephoneEvent {
                event,
                end: false,
                volume: 0,
                duration: 0,
            }
            .digit()
        };
        assert_eq!(
            (key(10), key(11), key(15), key(16)),
            (Some('*'), Some('#'), Some('D'), None)
        );
    }

    #[test]
    fn short_payload_is_an_error() {
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::TooShort(3))
        );
    }
}
