//! What a call's recording holds, on 127.0.0.1 with plain tokio sockets as phones: the
//! prompt the caller heard and then the agent on the right, the caller on the left, and the
//! audio still queued in the call's sockets when the hang-up came.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use chrono::Utc;
use hotline_media::g711::Codec;
use hotline_media::MediaEvent;
use hotline_record::{CallId, Recorder};
use tokio::time::Instant;

use support::*;

#[tokio::test]
async fn the_recording_holds_the_prompt_then_the_agent_on_the_right_and_the_caller_on_the_left() {
    let recorder = Recorder::start(scratch_dir("recording")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 1), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let answered_at = Instant::now();
    let mut call = answered("rec", Codec::Pcmu, Some(recording), 25).await;
    let caller_phone = &call.phone;

    // 500 ms of menu while the caller's phone sends its 440 Hz.
    call.media.play(1, vec!["menu".into()], false);
    talk(caller_phone, call.to_switch, &mut call.sender, &[440.0], 30).await;
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::PlayFinished(1))
    );
    let (agent_phone, agent_port, agent_peer) = agent_leg(Codec::Pcma).await;
    let to_agent_side = agent_port.local_addr();
    call.media.connect_agent((agent_port, agent_peer));
    let mut agent = Sender::new(Codec::Pcma, 0xA6E7);
    both_talk(&mut call, &agent_phone, to_agent_side, &mut agent, 25).await;
    let stats = call.media.stop().await;
    let call_length = answered_at.elapsed();
    recorder.sync().unwrap();

    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(u64::from(reader.duration()), stats.duration_samples);
    // The test's clock starts before the media task's, by more on a busy machine: 100 ms.
    let expected = call_length.as_micros() as i64 * 8 / 1_000;
    assert!(
        (stats.duration_samples as i64 - expected).abs() <= 800,
        "{} samples for {call_length:?}",
        stats.duration_samples
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(
        power(&left, 440.0) > 100.0 * power(&left, 1_000.0),
        "left is the caller"
    );
    assert!(
        power(&left, 440.0) > 100.0 * power(&left, 600.0),
        "the prompt is not on the left"
    );
    let prompt_part = &right[..3_600];
    assert!(
        power(prompt_part, 600.0) > 100.0 * power(prompt_part, 1_000.0),
        "the right starts with the prompt the caller heard"
    );
    let agent_part = &right[right.len() - 3_200..];
    assert!(
        power(agent_part, 1_000.0) > 100.0 * power(agent_part, 600.0),
        "then the agent"
    );
    assert!(
        right[..400].iter().any(|s| s.abs() > 1_000),
        "the prompt from the answer on"
    );
}

/// The hang-up reached the media task while 1.2 s of both phones' audio still waited in the
/// call's sockets (its runtime behind, as under load, where the signalling is favoured):
/// its last 0.8 s is relayed and recorded where it belongs, not padded as silence; what is
/// older is counted as dropped, since it could no longer be placed.
#[tokio::test]
async fn audio_still_queued_at_the_hang_up_is_recorded() {
    let recorder = Recorder::start(scratch_dir("queued-at-hang-up")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 2), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let mut call = answered("queued", Codec::Pcmu, Some(recording), 25).await;
    let (agent_phone, agent_port, agent_peer) = agent_leg(Codec::Pcma).await;
    let to_agent_side = agent_port.local_addr();
    call.media.connect_agent((agent_port, agent_peer));
    let mut agent = Sender::new(Codec::Pcma, 0xA6E8);
    both_talk(&mut call, &agent_phone, to_agent_side, &mut agent, 25).await;
    // The task reads the last of it.
    tokio::time::sleep(Duration::from_millis(40)).await;
    // 1.2 s of audio, then as long again: this thread runs the media task's runtime and
    // does not yield, so the task reads none of it until the hang-up.
    for _ in 0..60 {
        agent_phone
            .try_send_to(&agent.audio(&[1_000.0]), to_agent_side)
            .unwrap();
        call.phone
            .try_send_to(&call.sender.audio(&[440.0]), call.to_switch)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(1_200));
    let stats = call.media.stop().await;
    assert_eq!(
        stats.caller_to_agent.packets,
        25 + 40,
        "the last 0.8 s relayed"
    );
    assert_eq!(stats.agent_to_caller.packets, 25 + 40);
    assert_eq!(stats.dropped, 2 * 20, "the older 0.4 s of each phone");
    recorder.sync().unwrap();

    let samples: Vec<i16> = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(|s| s.unwrap())
        .collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    // From 1.0 s to 1.6 s of the call: inside the last 0.8 s the phones sent (0.9-1.7 s).
    let span = |c: &[i16]| c.get(8_000..12_800).unwrap_or_default().to_vec();
    let (left, right) = (span(&left), span(&right));
    let loud = |c: &[i16]| c.iter().filter(|s| s.abs() > 1_000).count();
    assert!(
        loud(&left) > 2_400,
        "the caller's last words: {}",
        loud(&left)
    );
    assert!(
        loud(&right) > 2_400,
        "the agent's last words: {}",
        loud(&right)
    );
    assert!(power(&left, 440.0) > 100.0 * power(&left, 1_000.0));
    assert!(power(&right, 1_000.0) > 100.0 * power(&right, 440.0));
}
