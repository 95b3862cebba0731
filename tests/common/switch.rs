//! The switch under test: the real binary, on a free port, with its own dialplan,
//! recordings directory, database and control socket in a temporary directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `hotline serve`.
pub struct Switch {
    child: Child,
    /// The SIP port on 127.0.0.1.
    pub port: u16,
    /// Its scratch directory.
    pub dir: tempfile::TempDir,
}

impl Switch {
    /// Starts the switch on `dialplan` (TOML text), waiting until it listens.
    pub fn start(dialplan: &str) -> Switch {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("dialplan.toml"), dialplan).expect("write dialplan");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--dialplan")
            .arg(dir.path().join("dialplan.toml"))
            .args(["--listen", "127.0.0.1:0"])
            .arg("--recordings")
            .arg(dir.path().join("recordings"))
            .arg("--db")
            .arg(dir.path().join("calls.db"))
            .arg("--control")
            .arg(dir.path().join("hotline.sock"))
            .env("HOTLINE_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("switch.log")).expect("log file"),
            ))
            .spawn()
            .expect("start hotline");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let log =
                    std::fs::read_to_string(dir.path().join("switch.log")).unwrap_or_default();
                panic!("switch did not start:\n{log}")
            });
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Switch { child, port, dir }
    }

    /// Kills the switch the hard way (SIGKILL), as a crash or an operator's `kill -9` would.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Where recordings go.
    pub fn recordings(&self) -> PathBuf {
        self.dir.path().join("recordings")
    }

    /// The call record database.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("calls.db")
    }

    /// The control socket.
    pub fn control(&self) -> PathBuf {
        self.dir.path().join("hotline.sock")
    }

    /// The dialplan file the switch was started with.
    pub fn dialplan_path(&self) -> PathBuf {
        self.dir.path().join("dialplan.toml")
    }

    /// The switch's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("switch.log")).unwrap_or_default()
    }

    /// `hotline calls --json`, parsed, waiting until `pred` holds (records are written
    /// asynchronously) or 10 s pass.
    pub fn calls_when(
        &self,
        pred: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let calls = self.calls();
            if pred(&calls) || std::time::Instant::now() > deadline {
                return calls;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `hotline calls --json`, parsed.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        let out = hotline(&["calls", "--json", "--db"], Some(&self.db()));
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }
}

/// Runs the hotline binary with `args` (plus `path` appended) and returns stdout.
pub fn hotline(args: &[&str], path: Option<&Path>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
    cmd.args(args);
    if let Some(p) = path {
        cmd.arg(p);
    }
    let out = cmd.output().expect("run hotline");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- switch log ----\n{}", self.log());
        }
    }
}

/// A test dialplan: Henan's Luoyang and Zhengzhou plus the centre, with agents whose
/// phones are SIPp instances at fixed contacts. `agents` = (id, region, port).
pub fn dialplan(agents: &[(&str, &str, u16)], ring_timeout: u64, overflow_after: u64) -> String {
    let mut s = format!(
        r#"[switch]
service_numbers = ["12366"]
province = "河南"
centre = "centre"
default_area_code = "0371"

[[region]]
id = "zhengzhou"
name = "郑州"
cities = ["郑州"]
area_codes = ["0371"]
ring_timeout_secs = {ring_timeout}
overflow_after_secs = {overflow_after}

[[region]]
id = "luoyang"
name = "洛阳"
cities = ["洛阳"]
area_codes = ["0379"]
ring_timeout_secs = {ring_timeout}
overflow_after_secs = {overflow_after}

[[region]]
id = "centre"
name = "省局联络中心"
ring_timeout_secs = {ring_timeout}
"#
    );
    for (id, region, port) in agents {
        if *port == 0 {
            s.push_str(&format!(
                "\n[[agent]]\nid = \"{id}\"\nregion = \"{region}\"\nsecret = \"pw-{id}\"\n"
            ));
        } else {
            s.push_str(&format!(
                "\n[[agent]]\nid = \"{id}\"\nregion = \"{region}\"\ncontact = \"sip:{id}@127.0.0.1:{port}\"\n"
            ));
        }
    }
    s
}
