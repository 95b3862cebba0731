//! The caller's keys: by RFC 4733 event or by in-band tone, one digit per press even when a
//! phone sends both, held to a person's pace, reported to the switch.

use super::CallCore;
use crate::call::MediaEvent;
use crate::dtmf::TelephoneEvent;
use crate::rtp::RtpPacket;

/// The same key heard in-band and by RFC 4733 this close together is one press (phones that
/// send both): 200 ms.
pub(super) const SAME_PRESS: u64 = 1_600;

/// How a key reached the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyFrom {
    Event,
    Tone,
}

impl CallCore {
    /// A caller's RFC 4733 event packet: from now on, no in-band detection for this call.
    pub(super) fn take_caller_event(&mut self, packet: &RtpPacket<&mut [u8]>, now: u64) {
        let Ok(event) = TelephoneEvent::parse(packet.payload()) else {
            return;
        };
        if !self.caller_sends_events {
            tracing::debug!("caller sends RFC 4733 events: in-band detection off");
            self.caller_sends_events = true;
        }
        if let Some(key) = self
            .deduper
            .on_event(packet.ssrc(), packet.timestamp(), &event)
        {
            self.digit(key, now, KeyFrom::Event);
        }
    }

    /// One key heard, by `from`: a second hearing of the same press is dropped, then the
    /// pace is applied.
    pub(super) fn digit(&mut self, key: char, now: u64, from: KeyFrom) {
        if let Some((last, at, how)) = self.last_key {
            if last == key && how != from && now.saturating_sub(at) < SAME_PRESS {
                return;
            }
        }
        self.last_key = Some((key, now, from));
        // The media clock is 8 kHz samples.
        if !self.key_pace.take(now / 8) {
            if self.key_pace.dropped == 1 {
                tracing::warn!("caller sends keys faster than anyone presses them: dropped");
            }
            self.stats.keys_dropped = self.key_pace.dropped;
            return;
        }
        tracing::debug!(%key, ?from, "caller pressed a key");
        let _ = self.events.send(MediaEvent::Digit(key));
    }
}

#[cfg(test)]
#[path = "core_keys_tests.rs"]
mod tests;
