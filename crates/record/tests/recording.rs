//! Recordings read back with hound: alignment, duration, channels, modes, mid-call validity.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hotline_record::{CallId, Channel, Recorder};

fn call_id(n: u32) -> CallId {
    CallId::generate(Utc.with_ymd_and_hms(2026, 11, 23, 5, 15, 0).unwrap(), n)
}

fn read_frames(path: &std::path::Path) -> (hound::WavSpec, Vec<(i16, i16)>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples.chunks(2).map(|f| (f[0], f[1])).collect())
}

/// Pushes `packets` 20 ms packets of `value` starting at sample `from`, like the relay does.
fn push_packets(
    rec: &mut hotline_record::Recording,
    ch: Channel,
    from: u64,
    packets: u64,
    value: i16,
) {
    for p in 0..packets {
        rec.push(ch, from + p * 160, &[value; 160]);
    }
}

/// Pushes 20 ms packets of both channels in time order, as a live call does; `audio` gives
/// each channel's value for a packet, `None` for no packet.
fn push_call(
    rec: &mut hotline_record::Recording,
    packets: u64,
    audio: impl Fn(u64) -> (Option<i16>, Option<i16>),
) {
    for p in 0..packets {
        let (caller, heard) = audio(p);
        if let Some(v) = caller {
            rec.push(Channel::Caller, p * 160, &[v; 160]);
        }
        if let Some(v) = heard {
            rec.push(Channel::Heard, p * 160, &[v; 160]);
        }
    }
}

#[test]
fn caller_left_heard_right_with_silence_in_the_gap_and_exact_duration() {
    let root = common::scratch_dir("align");
    let recorder = Recorder::start(root.clone()).unwrap();
    let answered = Utc.with_ymd_and_hms(2026, 11, 23, 17, 0, 0).unwrap();
    let mut rec = recorder.open(&call_id(1), answered).unwrap();
    // Beijing date of 17:00 UTC is the next day.
    assert_eq!(
        rec.path(),
        root.join("2026/11/24/20261123T131500-000001.wav")
    );
    let path = rec.path().to_path_buf();

    // Caller speaks for 1 s, is silent (no packets) for 0.5 s, speaks 0.5 s more; the
    // agent's audio covers the whole 2 s.
    push_call(&mut rec, 100, |p| {
        let caller = match p {
            0..50 => Some(1000),
            75..100 => Some(2000),
            _ => None,
        };
        (caller, Some(-3000))
    });
    rec.finish(20_000);
    recorder.sync().unwrap();

    let (spec, frames) = read_frames(&path);
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    assert_eq!(frames.len(), 20_000, "duration is exactly total_samples");
    assert!(frames[..8_000].iter().all(|f| f.0 == 1000));
    assert!(
        frames[8_000..12_000].iter().all(|f| f.0 == 0),
        "gap is silence"
    );
    assert!(frames[12_000..16_000].iter().all(|f| f.0 == 2000));
    assert!(
        frames[16_000..].iter().all(|f| *f == (0, 0)),
        "padded to the call's end"
    );
    assert!(frames[..16_000].iter().all(|f| f.1 == -3000));
}

#[test]
fn late_and_overlapping_packets_land_by_sample_index() {
    let root = common::scratch_dir("overlap");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(2), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    rec.push(Channel::Heard, 320, &[3; 160]);
    rec.push(Channel::Heard, 0, &[1; 160]); // arrived out of order
    rec.push(Channel::Heard, 160, &[2; 160]);
    rec.push(Channel::Heard, 400, &[4; 80]); // overwrites the second half of the third packet
    rec.push(Channel::Caller, 0, &[9; 480]);
    rec.finish(480);
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    let right: Vec<i16> = frames.iter().map(|f| f.1).collect();
    assert_eq!(&right[..160], &[1; 160][..]);
    assert_eq!(&right[160..320], &[2; 160][..]);
    assert_eq!(&right[320..400], &[3; 80][..]);
    assert_eq!(&right[400..480], &[4; 80][..]);
}

#[test]
fn a_packet_40_ms_late_in_a_running_call_still_lands() {
    let root = common::scratch_dir("late-40");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(11), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    for p in 0..100u64 {
        rec.push(Channel::Heard, p * 160, &[2; 160]);
        if p != 50 {
            rec.push(Channel::Caller, p * 160, &[1; 160]);
        }
        if p == 52 {
            rec.push(Channel::Caller, 50 * 160, &[3; 160]);
        }
    }
    rec.finish(16_000);
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert!(frames[8_000..8_160].iter().all(|f| *f == (3, 2)));
    assert_eq!(recorder.dropped_samples(), 0);
}

#[test]
fn audio_past_the_end_of_the_call_is_cut() {
    let root = common::scratch_dir("cut");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(3), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    push_packets(&mut rec, Channel::Caller, 0, 10, 5);
    rec.finish(1_000);
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert_eq!(frames.len(), 1_000);
}

#[test]
fn audio_after_minutes_of_silence_lands_in_its_place() {
    let root = common::scratch_dir("long-silence");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(10), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    // Both phones talk for 1 s, both fall silent (a hold) for two minutes, then talk 1 s.
    push_call(&mut rec, 50, |_| (Some(4), Some(6)));
    let back = 121 * 8_000;
    push_packets(&mut rec, Channel::Caller, back, 50, 5);
    push_packets(&mut rec, Channel::Heard, back, 50, 7);
    rec.finish(back + 8_000);
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert_eq!(frames.len() as u64, back + 8_000);
    assert!(frames[..8_000].iter().all(|f| *f == (4, 6)));
    assert!(frames[8_000..back as usize].iter().all(|f| *f == (0, 0)));
    assert!(frames[back as usize..].iter().all(|f| *f == (5, 7)));
    assert_eq!(recorder.dropped_samples(), 0);
}

#[test]
fn recordings_are_private_to_the_owner_and_group() {
    let root = common::scratch_dir("modes");
    let recorder = Recorder::start(root.clone()).unwrap();
    let answered = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
    let rec = recorder.open(&call_id(4), answered).unwrap();
    let path = rec.path().to_path_buf();
    rec.finish(8);
    recorder.sync().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o640);
    for dir in ["2026", "2026/03", "2026/03/04"] {
        assert_eq!(mode(&root.join(dir)), 0o750, "{dir}");
    }
}

#[test]
fn the_recordings_root_and_voicemail_folder_are_closed_up_even_if_made_before() {
    let root = common::scratch_dir("root-modes");
    std::fs::create_dir_all(root.join("voicemail")).unwrap();
    let open = std::fs::Permissions::from_mode(0o777);
    std::fs::set_permissions(&root, open.clone()).unwrap();
    std::fs::set_permissions(root.join("voicemail"), open).unwrap();
    let _recorder = Recorder::start(root.clone()).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o750);
    assert_eq!(mode(&root.join("voicemail")), 0o750);

    let fresh = common::scratch_dir("root-modes-fresh").join("recordings");
    let _recorder = Recorder::start(fresh.clone()).unwrap();
    assert_eq!(mode(&fresh), 0o750);
    assert_eq!(mode(&fresh.join("voicemail")), 0o750);
}

#[test]
fn a_disk_below_its_free_space_floor_starts_no_new_recording() {
    let root = common::scratch_dir("floor");
    // More free space than any disk has: the floor is never met.
    let recorder = Recorder::start_with_floor(root.clone(), u64::MAX).unwrap();
    assert!(recorder.disk_low());
    let answered = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
    let refused = recorder.open(&call_id(11), answered);
    assert!(
        matches!(
            refused,
            Err(hotline_record::RecordError::DiskBelowFloor {
                floor: u64::MAX,
                ..
            })
        ),
        "{refused:?}"
    );
    recorder.sync().unwrap();
    assert!(!root.join("2026").exists(), "no file, no folder was made");

    let roomy = Recorder::start_with_floor(common::scratch_dir("floor-met"), 1).unwrap();
    assert!(!roomy.disk_low());
    let rec = roomy.open(&call_id(12), answered).unwrap();
    let path = rec.path().to_path_buf();
    rec.finish(8);
    roomy.sync().unwrap();
    assert!(path.exists());
}

#[test]
fn file_is_playable_mid_call_after_sync() {
    let root = common::scratch_dir("midcall-sync");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(5), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    push_call(&mut rec, 100, |_| (Some(7), Some(8)));
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert!(
        frames.len() >= 8_000,
        "only {} frames readable",
        frames.len()
    );
    assert!(frames.iter().all(|f| *f == (7, 8)));
    rec.finish(16_000);
}

#[test]
fn header_becomes_valid_within_a_second_without_any_trigger() {
    let root = common::scratch_dir("midcall-timer");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(6), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    push_call(&mut rec, 100, |_| (Some(7), Some(8)));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let frames = hound::WavReader::open(&path)
            .map(|r| r.duration())
            .unwrap_or(0);
        if frames >= 8_000 {
            break;
        }
        assert!(Instant::now() < deadline, "header never showed the audio");
        std::thread::sleep(Duration::from_millis(100));
    }
    rec.finish(16_000);
}

#[test]
fn a_phone_that_sends_nothing_delays_the_file_by_at_most_a_second() {
    let root = common::scratch_dir("silent-agent");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(9), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    push_call(&mut rec, 150, |_| (Some(5), None));
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert!(
        frames.len() >= 24_000 - 8_000 - 1_200,
        "{} frames",
        frames.len()
    );
    assert!(frames.iter().all(|f| *f == (5, 0)));
    rec.finish(24_000);
}

#[test]
fn dropping_a_recording_still_closes_its_file() {
    let root = common::scratch_dir("drop");
    let recorder = Recorder::start(root).unwrap();
    let mut rec = recorder.open(&call_id(7), Utc::now()).unwrap();
    let path = rec.path().to_path_buf();
    push_packets(&mut rec, Channel::Caller, 0, 10, 1);
    drop(rec);
    recorder.sync().unwrap();
    let (_, frames) = read_frames(&path);
    assert_eq!(frames.len(), 1_600);
}

#[test]
fn an_unwritable_root_counts_a_failure_instead_of_panicking() {
    let root = common::scratch_dir("readonly");
    let recorder = Recorder::start(root.clone()).unwrap();
    let answered = Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap();
    // A file where the year directory should be makes directory creation fail.
    std::fs::write(root.join("2026"), b"not a directory").unwrap();
    let mut rec = recorder.open(&call_id(8), answered).unwrap();
    push_packets(&mut rec, Channel::Caller, 0, 10, 1);
    rec.finish(1_600);
    recorder.sync().unwrap();
    assert_eq!(recorder.failed_recordings(), 1);
}

/// Load check, run by hand in release: `cargo test --release -p hotline-record --test
/// recording -- --ignored --nocapture` (set `HOTLINE_LOAD_DIR` to choose the disk). 5,000
/// calls push 20 ms packets in real time for 10 s, as live calls do; prints the process's CPU
/// use, and the writer must keep up without dropping audio.
#[test]
#[ignore]
fn writer_keeps_up_with_five_thousand_calls() {
    let calls = 5_000u32;
    let seconds = 10u64;
    let root = match std::env::var_os("HOTLINE_LOAD_DIR") {
        Some(dir) => std::path::PathBuf::from(dir).join(format!("load-{}", std::process::id())),
        None => common::scratch_dir("load"),
    };
    let recorder = Recorder::start(root.clone()).unwrap();
    let mut recordings: Vec<_> = (0..calls)
        .map(|n| recorder.open(&call_id(n), Utc::now()).unwrap())
        .collect();
    let packet = [1000i16; 160];
    let cpu_before = process_cpu_ticks();
    let begin = Instant::now();
    for p in 0..seconds * 50 {
        for rec in &mut recordings {
            rec.push(Channel::Caller, p * 160, &packet);
            rec.push(Channel::Heard, p * 160, &packet);
        }
        let next = begin + Duration::from_millis(20 * (p + 1));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    for rec in recordings {
        rec.finish(seconds * 8_000);
    }
    recorder.sync().unwrap();
    let elapsed = begin.elapsed();
    let cpu = (process_cpu_ticks() - cpu_before) as f64 / 100.0;
    println!(
        "{calls} calls x {seconds} s in {elapsed:?}: {cpu:.1} s CPU ({:.0}% of one core)",
        100.0 * cpu / elapsed.as_secs_f64()
    );
    assert_eq!(recorder.dropped_samples(), 0);
    assert_eq!(recorder.failed_recordings(), 0);
    let _ = std::fs::remove_dir_all(root);
}

/// User + system CPU time of this process, in clock ticks (1/100 s on Linux).
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
