//! A TCP byte stream cut into SIP messages by Content-Length, the way the switch's stream
//! reader does: frames must lie inside the buffer, and each step must consume bytes.
#![no_main]

use hotline_sip::framing::{next_frame, Frame};
use hotline_sip::parse::{parse_ignoring_length, parse_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    loop {
        match next_frame(rest) {
            Ok(Frame::Message { skip, len }) => {
                let end = skip.checked_add(len).expect("frame end overflows");
                assert!(
                    len > 0 && end <= rest.len(),
                    "frame {skip}+{len} of {}",
                    rest.len()
                );
                let _ = parse_message(&rest[skip..end]);
                rest = &rest[end..];
            }
            Ok(Frame::KeepAlive(n)) => {
                assert!(n > 0 && n <= rest.len(), "keep-alive {n} of {}", rest.len());
                rest = &rest[n..];
            }
            Ok(Frame::NeedMore) => return,
            Err(_) => {
                // The switch answers a framing error with a 400 built from what it can read.
                let _ = parse_ignoring_length(rest);
                return;
            }
        }
    }
});
