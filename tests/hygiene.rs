//! Safe to expose, and clean on its own machine: weak phone secrets beyond loopback, the
//! control socket, the recordings' folders and the free-space brake. The real binary on
//! 127.0.0.1 (or on all addresses, where that is the point), SIPp as the phones; assertions
//! are on exit codes, what the CLI printed and what landed on disk.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::audio::tone_pcap;
use common::sipp::Sipp;
use common::switch::{dialplan, Switch};
use hotline_media::Codec;

const HENAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans/henan.toml");

/// A `hotline serve` started by a test itself (its own flags), killed on drop.
struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    dir: PathBuf,
}

impl Serve {
    /// `hotline serve` on `plan` with its files in `dir` and `args` (the listen address
    /// among them); `umask` sets the process's file-creation mask first.
    fn start(dir: &Path, plan: &Path, args: &[&str], umask: Option<&str>) -> Serve {
        let bin = env!("CARGO_BIN_EXE_hotline");
        let mut cmd = match umask {
            Some(mask) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("umask {mask} && exec \"$0\" \"$@\""), bin]);
                sh
            }
            None => Command::new(bin),
        };
        let mut child = cmd
            .arg("serve")
            .arg("--dialplan")
            .arg(plan)
            .arg("--recordings")
            .arg(dir.join("recordings"))
            .arg("--db")
            .arg(dir.join("calls.db"))
            .arg("--control")
            .arg(dir.join("hotline.sock"))
            .args(args)
            .args(["--http", "off"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("switch.log")).expect("log file"),
            ))
            .spawn()
            .expect("start hotline");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Serve {
            child,
            lines,
            dir: dir.to_path_buf(),
        }
    }

    /// Waits (up to 20 s) for the line saying the switch listens.
    fn expect_listening(&mut self) {
        let line = self.lines.recv_timeout(Duration::from_secs(20));
        assert!(
            line.as_deref().is_ok_and(|l| l.contains("listening on")),
            "the switch did not start: {line:?}\n{}",
            self.log()
        );
    }

    /// Waits (up to 20 s) for the switch to give up, returning its exit code and log.
    fn expect_refusal(&mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.code(), self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the switch started when it should have refused:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("switch.log")).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the hotline binary with `args`.
fn hotline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .output()
        .expect("run hotline")
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The test dialplan with a secret for `agent` long enough to pass beyond loopback.
fn plan_with_strong_secret(agent: &str) -> String {
    dialplan(&[(agent, "luoyang", 0)], 15, 60).replace(
        &format!("\"pw-{agent}\""),
        &format!("\"correct-horse-battery-{agent}\""),
    )
}

#[test]
fn a_switch_on_all_addresses_refuses_the_demo_secrets_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let exposed = ["--listen", "0.0.0.0:0", "--advertise", "127.0.0.1"];
    let mut refused = Serve::start(dir.path(), Path::new(HENAN), &exposed, None);
    let (code, log) = refused.expect_refusal();
    assert_ne!(code, Some(0), "{log}");
    assert!(
        log.contains("1003") && log.contains("1901") && log.contains("demo"),
        "the message names the agents: {log}"
    );
    assert!(
        log.contains("--allow-weak-secrets"),
        "and the way out: {log}"
    );
    assert!(
        !dir.path().join("hotline.sock").exists(),
        "refused before anything was opened"
    );

    let allowed = [&exposed[..], &["--allow-weak-secrets"]].concat();
    let mut started = Serve::start(dir.path(), Path::new(HENAN), &allowed, None);
    started.expect_listening();
}

#[test]
fn check_warns_about_demo_and_short_secrets_and_not_about_real_ones() {
    let henan = hotline(&["check", HENAN]);
    assert!(henan.status.success(), "a warning is no failure");
    let warned = String::from_utf8_lossy(&henan.stderr);
    assert!(
        warned.contains("warning") && warned.contains("1003") && warned.contains("1950"),
        "agents and supervisors with demo secrets are named: {warned}"
    );

    let dir = tempfile::tempdir().unwrap();
    let strong = dir.path().join("strong.toml");
    std::fs::write(&strong, plan_with_strong_secret("1003")).unwrap();
    let quiet = hotline(&["check", strong.to_str().unwrap()]);
    assert!(quiet.status.success());
    assert_eq!(
        String::from_utf8_lossy(&quiet.stderr),
        "",
        "nothing to warn about"
    );
}

#[test]
fn a_reload_cannot_bring_weak_secrets_onto_a_switch_on_all_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("dialplan.toml");
    std::fs::write(&plan, plan_with_strong_secret("1003")).unwrap();
    let exposed = ["--listen", "0.0.0.0:0", "--advertise", "127.0.0.1"];
    let mut switch = Serve::start(dir.path(), &plan, &exposed, None);
    switch.expect_listening();

    std::fs::write(&plan, dialplan(&[("1003", "luoyang", 0)], 15, 60)).unwrap();
    let control = dir.path().join("hotline.sock");
    let reload = hotline(&["reload", "--control", control.to_str().unwrap()]);
    assert_eq!(reload.status.code(), Some(1), "{reload:?}");
    let said = String::from_utf8_lossy(&reload.stderr);
    assert!(
        said.contains("agent 1003") && said.contains("--allow-weak-secrets"),
        "{said}"
    );
}

#[test]
fn a_file_where_the_control_socket_goes_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("dialplan.toml");
    std::fs::write(&plan, dialplan(&[("1003", "luoyang", 0)], 15, 60)).unwrap();
    let notes = dir.path().join("hotline.sock");
    std::fs::write(&notes, "the operator's notes\n").unwrap();
    let mut switch = Serve::start(dir.path(), &plan, &["--listen", "127.0.0.1:0"], None);
    let (code, log) = switch.expect_refusal();
    assert_ne!(code, Some(0), "{log}");
    assert!(log.contains("not a socket"), "{log}");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "the operator's notes\n",
        "the file is untouched"
    );
}

#[test]
fn under_a_loose_umask_the_control_socket_and_recording_folders_stay_private() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("dialplan.toml");
    std::fs::write(&plan, dialplan(&[("1003", "luoyang", 0)], 15, 60)).unwrap();
    let mut switch = Serve::start(dir.path(), &plan, &["--listen", "127.0.0.1:0"], Some("000"));
    switch.expect_listening();
    let socket = dir.path().join("hotline.sock");
    assert!(std::fs::symlink_metadata(&socket)
        .unwrap()
        .file_type()
        .is_socket());
    assert_eq!(mode(&socket), 0o600, "only the switch's user may connect");
    let recordings = dir.path().join("recordings");
    assert_eq!(mode(&recordings), 0o750, "the recordings root");
    assert_eq!(mode(&recordings.join("voicemail")), 0o750, "voicemail/");
    let hidden: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "no folder the socket was bound in is left behind: {hidden:?}"
    );
}

/// Everything the switch answers on a raw control connection, up to its close.
fn answer(stream: &mut UnixStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    // The switch may close with our excess unread: the kernel then ends the stream with a
    // reset after its answer, which is as good as the end here.
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_control_client_that_sends_too_much_or_nothing_is_refused_and_the_switch_carries_on() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));

    let mut flood = UnixStream::connect(switch.control()).unwrap();
    flood
        .write_all(format!("agent login {}\n", "1".repeat(10_000)).as_bytes())
        .unwrap();
    let said = answer(&mut flood);
    assert!(
        said.starts_with("error\n") && said.contains("longer than 4096"),
        "{said:?}"
    );

    let started = Instant::now();
    let mut silent = UnixStream::connect(switch.control()).unwrap();
    let said = answer(&mut silent);
    assert!(
        said.starts_with("error\n") && said.contains("no command within"),
        "a silent client is answered and dropped: {said:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let agents = switch.agents();
    assert_eq!(agents.len(), 1, "the switch still answers: {agents:?}");
}

#[test]
fn the_os_user_who_ran_monitor_is_in_the_audit_row() {
    let plan = format!(
        "{}\n[[supervisor]]\nid = \"1950\"\nsecret = \"pw-1950\"\nscope = \"province\"\n",
        dialplan(&[("1003", "luoyang", 0)], 15, 60)
    );
    let switch = Switch::start(&plan);
    let control = switch.control();
    let asked = hotline(&[
        "monitor",
        "1950",
        "1003",
        "--control",
        control.to_str().unwrap(),
    ]);
    assert_eq!(
        asked.status.code(),
        Some(1),
        "1003 is on no call: {asked:?}"
    );

    let me = Command::new("id").arg("-un").output().expect("id -un");
    let me = String::from_utf8_lossy(&me.stdout).trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let rows = hotline_record::list_monitoring(&switch.db()).unwrap_or_default();
        if !rows.is_empty() || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].supervisor, "1950");
    assert!(!rows[0].allowed);
    assert_eq!(rows[0].os_user.as_deref(), Some(me.as_str()));
}

#[test]
fn with_the_disk_below_its_floor_a_call_connects_unrecorded_and_calls_says_so() {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 8);
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let p = common::free_port();
    // A floor far above any disk's free space: the disk is always "below" it.
    let switch = Switch::start_with(
        &dialplan(&[("1003", "luoyang", p)], 15, 60),
        &["--min-free-disk", "1000000TiB"],
    );
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", p, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        "13903790000",
        &caller_pcap,
        1500,
    );
    caller.expect_success(Duration::from_secs(30));
    agent.expect_success(Duration::from_secs(10));

    let calls = switch.ended_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["outcome"], "answered", "the call still flowed");
    assert_eq!(calls[0]["agent"], "1003");
    assert_eq!(calls[0]["recording_failed"], true);
    assert!(calls[0]["recording_path"].is_null(), "{:?}", calls[0]);
    assert!(
        wavs(&switch.recordings()).is_empty(),
        "nothing was written to the disk"
    );

    let table = hotline(&["calls", "--db", switch.db().to_str().unwrap()]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("NOT RECORDED (recording_failed)") && table.contains("free-space floor"),
        "{table}"
    );
}

/// Every `.wav` below `dir`.
fn wavs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "wav") {
                found.push(path);
            }
        }
    }
    found
}
