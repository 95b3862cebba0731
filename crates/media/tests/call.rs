//! A caller answered by the switch, on 127.0.0.1 with plain tokio sockets as phones: prompts
//! paced to the caller on one continuous stream, keys in both forms, a voicemail, the agent
//! connected and gone again (what the call's recording holds: `call_recording.rs`).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use chrono::Utc;
use hotline_media::g711::Codec;
use hotline_media::MediaEvent;
use hotline_record::{CallId, Recorder};
use tokio::time::{sleep, Instant};

use support::*;

#[tokio::test]
async fn a_prompt_reaches_the_caller_paced_on_one_stream_and_finishes_once() {
    let mut call = answered("play", Codec::Pcma, None, 25).await;
    call.media.play(7, vec!["menu".into()], false);
    let got = recv_until_quiet(&call.phone, 200).await;
    assert_eq!(got.len(), 25, "500 ms of prompt in 20 ms frames");
    assert!(got[0].rtp().marker(), "the spurt starts with the marker");
    assert!(got[1..].iter().all(|g| !g.rtp().marker()));
    assert!(got
        .iter()
        .all(|g| g.rtp().payload_type() == 8 && g.rtp().payload().len() == 160));
    assert_continuous(&got);
    let span = got[24].at - got[0].at;
    assert!(
        span >= Duration::from_millis(400) && span <= Duration::from_millis(700),
        "24 intervals of 20 ms took {span:?}"
    );
    let mut gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    gaps.sort();
    let median = gaps[gaps.len() / 2];
    assert!(
        median >= Duration::from_millis(15) && median <= Duration::from_millis(25),
        "median gap {median:?}"
    );
    let heard = decode(&got, Codec::Pcma);
    assert!(
        power(&heard, 600.0) > 1_000.0 * power(&heard, 1_000.0),
        "the menu's 600 Hz"
    );
    assert_eq!(
        next_event(&mut call.events, 500).await,
        Some(MediaEvent::PlayFinished(7))
    );
    assert_eq!(
        next_event(&mut call.events, 200).await,
        None,
        "finished once"
    );
    let stats = call.media.stop().await;
    assert_eq!(stats.played.packets, 25);
}

#[tokio::test]
async fn stopped_and_replaced_plays_never_finish() {
    let mut call = answered("cut", Codec::Pcmu, None, 100).await;
    call.media.play(1, vec!["menu".into()], false);
    for _ in 0..3 {
        recv(&call.phone, 500).await.expect("the menu starts");
    }
    call.media.stop_playing();
    let tail = recv_until_quiet(&call.phone, 150).await;
    assert!(
        tail.len() <= 2,
        "the menu stops at once ({} more frames)",
        tail.len()
    );

    call.media.play(2, vec!["music".into()], true);
    let mut heard = Vec::new();
    for _ in 0..3 {
        heard.push(recv(&call.phone, 500).await.expect("music plays"));
    }
    call.media.play(3, vec!["beep".into()], false);
    heard.extend(recv_until_quiet(&call.phone, 200).await);
    assert_continuous(&heard);
    assert!(
        heard.len() >= 6 && heard.len() <= 8,
        "3 of music, a few more, 3 of beep: {}",
        heard.len()
    );
    assert!(
        heard[1..].iter().all(|g| !g.rtp().marker()),
        "one spurt: music ran straight into the beep"
    );
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::PlayFinished(3))
    );
    assert_eq!(
        next_event(&mut call.events, 200).await,
        None,
        "no event for the cut plays"
    );

    call.media.play(4, vec![], false);
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::PlayFinished(4))
    );
    call.media.stop().await;
}

#[tokio::test]
async fn keys_pressed_in_band_and_by_rfc_4733_are_each_one_digit() {
    let mut call = answered("keys", Codec::Pcma, None, 100).await;
    call.media.play(1, vec!["menu".into()], false);
    // Key 5 as a 100 ms tone (770 + 1336 Hz) over the prompt, then silence.
    talk(
        &call.phone,
        call.to_switch,
        &mut call.sender,
        &[770.0, 1_336.0],
        5,
    )
    .await;
    talk(&call.phone, call.to_switch, &mut call.sender, &[], 5).await;
    assert_eq!(
        next_event(&mut call.events, 500).await,
        Some(MediaEvent::Digit('5'))
    );
    // Key # by RFC 4733: start, continuations, the end three times; then # again.
    for event_ts in [60_000u32, 62_000] {
        let mut packets: Vec<Vec<u8>> = [160u16, 320, 480]
            .iter()
            .map(|&d| call.sender.event(event_ts, 11, false, d))
            .collect();
        packets.extend((0..3).map(|_| call.sender.event(event_ts, 11, true, 640)));
        for p in packets {
            call.phone.send_to(&p, call.to_switch).await.unwrap();
            sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(
        next_event(&mut call.events, 500).await,
        Some(MediaEvent::Digit('#'))
    );
    assert_eq!(
        next_event(&mut call.events, 500).await,
        Some(MediaEvent::Digit('#'))
    );
    assert_eq!(
        next_event(&mut call.events, 300).await,
        None,
        "each press once"
    );
    call.media.stop().await;
}

#[tokio::test]
async fn the_agent_continues_the_callers_stream_both_ways_and_the_survey_after_it() {
    let mut call = answered("agent", Codec::Pcma, None, 5).await;
    call.media.play(1, vec!["menu".into()], false);
    let prompt = recv_until_quiet(&call.phone, 150).await;
    assert_eq!(prompt.len(), 5);
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::PlayFinished(1))
    );

    let (agent_phone, agent_port, agent_peer) = agent_leg(Codec::Pcmu).await;
    let to_agent_side = agent_port.local_addr();
    call.media.connect_agent((agent_port, agent_peer));
    sleep(Duration::from_millis(20)).await;
    let mut agent = Sender::new(Codec::Pcmu, 0xA6E7);
    agent.seq = 60_000;
    agent.ts = 7;
    both_talk(&mut call, &agent_phone, to_agent_side, &mut agent, 10).await;
    let at_caller = recv_until_quiet(&call.phone, 150).await;
    let at_agent = recv_until_quiet(&agent_phone, 150).await;
    assert_eq!((at_caller.len(), at_agent.len()), (10, 10));

    // The agent's side sees the caller's own stream, transcoded A-law → μ-law.
    let first = at_agent[0].rtp();
    assert_eq!((first.ssrc(), first.payload_type()), (0xCA11, 0));
    assert_continuous(&at_agent);
    let heard_by_agent = decode(&at_agent, Codec::Pcmu);
    assert!(power(&heard_by_agent, 440.0) > 100.0 * power(&heard_by_agent, 1_000.0));

    // The caller's phone sees one stream: the prompt's SSRC, sequence and timestamps go on.
    let last_prompt = prompt[4].rtp();
    let first_agent = at_caller[0].rtp();
    assert_eq!(first_agent.ssrc(), last_prompt.ssrc());
    assert_eq!(
        first_agent.sequence(),
        last_prompt.sequence().wrapping_add(1)
    );
    let ts_gap = first_agent
        .timestamp()
        .wrapping_sub(last_prompt.timestamp());
    assert!(
        (160..16_000).contains(&ts_gap),
        "timestamps count the pause: {ts_gap}"
    );
    assert!(first_agent.marker() && first_agent.payload_type() == 8);
    assert_continuous(&at_caller);
    let heard_by_caller = decode(&at_caller, Codec::Pcma);
    assert!(power(&heard_by_caller, 1_000.0) > 100.0 * power(&heard_by_caller, 440.0));

    // The agent hangs up: the survey plays on the same stream and keys count again.
    call.media.disconnect_agent();
    call.media.play(2, vec!["beep".into()], false);
    let survey = recv_until_quiet(&call.phone, 150).await;
    assert_eq!(survey.len(), 3);
    let (s0, last_agent) = (survey[0].rtp(), at_caller[9].rtp());
    assert_eq!(s0.ssrc(), last_agent.ssrc());
    assert_eq!(s0.sequence(), last_agent.sequence().wrapping_add(1));
    assert!(s0.marker());
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::PlayFinished(2))
    );
    let survey_key = call.sender.event(90_000, 1, true, 800);
    call.phone
        .send_to(&survey_key, call.to_switch)
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut call.events, 300).await,
        Some(MediaEvent::Digit('1'))
    );

    agent_phone
        .send_to(&agent.audio(&[1_000.0]), to_agent_side)
        .await
        .unwrap_or_default();
    assert!(
        recv(&call.phone, 150).await.is_none(),
        "the agent's port is closed"
    );
    let stats = call.media.stop().await;
    assert_eq!(stats.agent_to_caller.packets, 10);
    assert_eq!(stats.caller_to_agent.packets, 10);
}

#[tokio::test]
async fn a_voicemail_holds_the_callers_voice_for_its_length() {
    let dir = scratch_dir("voicemail");
    let mut call = answered("vm", Codec::Pcma, None, 5).await;
    // Stopped by the caller (#) after about 300 ms.
    let stopped = dir.join("voicemail/2026/11/23/stopped.wav");
    call.media
        .start_voicemail(stopped.clone(), Duration::from_secs(120));
    let begun = Instant::now();
    talk(&call.phone, call.to_switch, &mut call.sender, &[440.0], 15).await;
    call.media.stop_voicemail();
    let elapsed = begun.elapsed();
    let Some(MediaEvent::VoicemailDone { path, samples }) =
        next_event(&mut call.events, 1_000).await
    else {
        panic!("no VoicemailDone");
    };
    assert_eq!(path, stopped);
    let expected = elapsed.as_micros() as i64 * 8 / 1_000;
    assert!(
        (samples as i64 - expected).abs() <= 320,
        "{samples} samples for {elapsed:?}"
    );
    let mut reader = hound::WavReader::open(&stopped).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 8_000, 16)
    );
    assert_eq!(u64::from(reader.duration()), samples);
    let voice: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    assert!(
        power(&voice, 440.0) > 1_000.0 * power(&voice, 600.0),
        "the caller's 440 Hz"
    );
    assert!(voice.iter().filter(|s| s.abs() > 1_000).count() > voice.len() / 3);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&stopped), 0o640);
    assert_eq!(
        mode(stopped.parent().unwrap()) & 0o027,
        0,
        "no access for others"
    );

    // Cut at `max` while the caller goes on talking.
    let capped = dir.join("voicemail/capped.wav");
    call.media
        .start_voicemail(capped.clone(), Duration::from_millis(400));
    talk(&call.phone, call.to_switch, &mut call.sender, &[440.0], 30).await;
    let done = next_event(&mut call.events, 1_000).await;
    assert_eq!(
        done,
        Some(MediaEvent::VoicemailDone {
            path: capped.clone(),
            samples: 3_200
        })
    );
    assert_eq!(hound::WavReader::open(&capped).unwrap().duration(), 3_200);
    call.media.stop().await;
}

#[tokio::test]
async fn a_voicemail_being_recorded_is_already_a_playable_file_of_its_first_second() {
    let dir = scratch_dir("voicemail-checkpoint");
    let mut call = answered("vm-checkpoint", Codec::Pcma, None, 5).await;
    let path = dir.join("voicemail/in-progress.wav");
    call.media
        .start_voicemail(path.clone(), Duration::from_secs(120));
    // 1.5 s of voice: the first second is written (100 ms are held back for late packets).
    talk(&call.phone, call.to_switch, &mut call.sender, &[440.0], 75).await;
    // Read while the caller is still speaking, as after a crash of the switch.
    let deadline = Instant::now() + Duration::from_secs(2);
    let voice = loop {
        let heard: Option<Vec<i16>> = hound::WavReader::open(&path)
            .ok()
            .map(|mut r| r.samples::<i16>().map_while(Result::ok).collect());
        if let Some(v) = heard.filter(|v| v.len() >= 8_000) {
            break v;
        }
        assert!(Instant::now() < deadline, "no readable second in {path:?}");
        sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(voice.len(), 8_000, "one whole second, as its header says");
    let said = &voice[4_000..];
    assert!(
        power(said, 440.0) > 1_000.0 * power(said, 600.0),
        "the caller's 440 Hz"
    );
    call.media.stop_voicemail();
    assert!(matches!(
        next_event(&mut call.events, 1_000).await,
        Some(MediaEvent::VoicemailDone { .. })
    ));
    call.media.stop().await;
}

/// Load check, run by hand in release with a raised fd limit: `ulimit -n 20000; cargo test
/// --release -p hotline-media --test call -- --ignored --nocapture` (`HOTLINE_LOAD_CALLS`,
/// default 1,000). Every caller waits in queue hearing looped music for 5 s, with the
/// recording on; prints the CPU of the whole process and the frames the phones received.
#[test]
#[ignore]
fn many_callers_on_music_on_hold_cpu() {
    let calls: usize = std::env::var("HOTLINE_LOAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let recorder = Recorder::start(scratch_dir("music-load")).unwrap();
        let mut waiting = Vec::new();
        for n in 0..calls {
            let recording = recorder
                .open(&CallId::generate(Utc::now(), n as u32), Utc::now())
                .unwrap();
            let call = answered(&format!("moh{n}"), Codec::Pcma, Some(recording), 5).await;
            call.media.play(1, vec!["music".into()], true);
            waiting.push(call);
        }
        let cpu_before = process_cpu_ticks();
        let begin = std::time::Instant::now();
        sleep(Duration::from_secs(5)).await;
        let elapsed = begin.elapsed();
        let cpu = (process_cpu_ticks() - cpu_before) as f64 / 100.0;
        let mut played = 0;
        for call in waiting {
            played += call.media.stop().await.played.packets;
        }
        recorder.sync().unwrap();
        println!(
            "{calls} callers on music for {elapsed:?}: {cpu:.1} s CPU ({:.0}% of one core), {played} frames sent (at least {} expected: plays began during setup)",
            100.0 * cpu / elapsed.as_secs_f64(),
            calls * 250
        );
    });
}

/// User + system CPU time of this process, in clock ticks (1/100 s on Linux).
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
