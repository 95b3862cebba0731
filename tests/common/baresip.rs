//! baresip, a real softphone, driven over its ctrl_tcp socket (netstring JSON): it dials,
//! sends keys as RFC 4733, plays a WAV as its microphone and records what it heard
//! (`dump-*-dec.wav` from the sndfile module).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running baresip.
pub struct Baresip {
    child: Child,
    ctrl: u16,
    /// Its config and dump directory.
    pub dir: PathBuf,
}

/// Fails the test (never skips) when baresip is not installed.
pub fn require_baresip() {
    let found = Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "baresip is not installed: run the README's test command (it installs baresip-core)"
    );
}

impl Baresip {
    /// Starts baresip with account `aor` (`<sip:...>;params`) playing `mic` (8 kHz WAV).
    pub fn start(dir: &Path, aor: &str, mic: &Path) -> Baresip {
        require_baresip();
        let sip = super::free_port();
        let ctrl = super::free_port();
        let cfg = dir.join("baresip");
        std::fs::create_dir_all(cfg.join("dumps")).expect("baresip dir");
        let config = format!(
            "poll_method\tepoll\nsip_listen\t127.0.0.1:{sip}\nmodule_path\t/usr/lib/baresip/modules\n\
module\tg711.so\nmodule\taufile.so\nmodule\tsndfile.so\nmodule_tmp\tuuid.so\nmodule_tmp\taccount.so\n\
module_app\tmenu.so\nmodule_app\tctrl_tcp.so\nctrl_tcp_listen\t127.0.0.1:{ctrl}\n\
audio_source\taufile,{}\naudio_player\taufile,{}\naudio_alert\taufile,{}\nsnd_path\t{}\n",
            mic.display(),
            cfg.join("played.wav").display(),
            cfg.join("alert.wav").display(),
            cfg.join("dumps").display()
        );
        std::fs::write(cfg.join("config"), config).expect("config");
        std::fs::write(cfg.join("accounts"), format!("{aor}\n")).expect("accounts");
        let child = Command::new("baresip")
            .args(["-4", "-n", "127.0.0.1", "-f"])
            .arg(&cfg)
            .current_dir(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(cfg.join("out.log")).expect("log"),
            ))
            .stderr(Stdio::null())
            .spawn()
            .expect("start baresip");
        let me = Baresip {
            child,
            ctrl,
            dir: cfg,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", ctrl)).is_err() {
            assert!(
                Instant::now() < deadline,
                "baresip did not open its control port:\n{}",
                me.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        me
    }

    /// Sends one command (`dial`, `sndcode`, `hangup`).
    pub fn command(&self, command: &str, params: &str) {
        let json = format!("{{\"command\":\"{command}\",\"params\":\"{params}\"}}");
        let mut s = TcpStream::connect(("127.0.0.1", self.ctrl)).expect("ctrl_tcp");
        s.write_all(format!("{}:{json},", json.len()).as_bytes())
            .expect("send");
        s.set_read_timeout(Some(Duration::from_millis(500))).ok();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
    }

    /// Its console output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default()
    }

    /// The decoded audio it heard (mono), from the sndfile dump, once written.
    pub fn heard(&self) -> Vec<i16> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("dumps")) else {
            return Vec::new();
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with("-dec.wav") {
                if let Ok(mut r) = hound::WavReader::open(e.path()) {
                    let ch = r.spec().channels as usize;
                    let all: Vec<i16> = r.samples::<i16>().map_while(Result::ok).collect();
                    return all.iter().step_by(ch.max(1)).copied().collect();
                }
            }
        }
        Vec::new()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
