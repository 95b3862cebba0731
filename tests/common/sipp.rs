//! SIPp peers: a scripted caller (UAC) or an agent's desk phone (UAS), each in the
//! foreground with a bounded call count and a global timeout, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running SIPp.
pub struct Sipp {
    child: Child,
    /// Where its log and message traces go.
    pub dir: PathBuf,
    name: String,
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

/// Fails the test (never skips) when SIPp is not installed.
pub fn require_sipp() {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "SIPp is not installed: run the README's test command (it installs sip-tester)"
    );
}

impl Sipp {
    /// Starts SIPp with `scenario` (a file in tests/scenarios) and extra arguments.
    pub fn start(name: &str, dir: &Path, scenario: &str, args: &[String]) -> Sipp {
        require_sipp();
        let log = |kind: &str| dir.join(format!("{name}-{kind}.log"));
        let child = Command::new("sipp")
            .current_dir(dir)
            .arg("-sf")
            .arg(scenarios().join(scenario))
            // -aa: answer in-dialog OPTIONS (the switch's keep-alive), INFO, NOTIFY with 200.
            .args(["-nostdin", "-aa", "-trace_logs", "-trace_msg", "-trace_err"])
            .arg("-log_file")
            .arg(log("actions"))
            .arg("-message_file")
            .arg(log("messages"))
            .arg("-error_file")
            .arg(log("errors"))
            .args(["-timeout", "60", "-timeout_error"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp");
        Sipp {
            child,
            dir: dir.to_path_buf(),
            name: name.to_string(),
        }
    }

    /// An agent phone (UAS) on `port`, answering with PCMA and playing `pcap`.
    pub fn agent(
        name: &str,
        dir: &Path,
        scenario: &str,
        port: u16,
        pcap: &Path,
        calls: u32,
    ) -> Sipp {
        Sipp::agent_with(name, dir, scenario, port, pcap, calls, &[])
    }

    /// An agent phone that answers, talks `talk_ms` and hangs up first (agent_hangup.xml).
    pub fn agent_hanging_up(name: &str, dir: &Path, port: u16, pcap: &Path, talk_ms: u64) -> Sipp {
        let talk = ["-d".to_string(), talk_ms.to_string()];
        Sipp::agent_with(name, dir, "agent_hangup.xml", port, pcap, 1, &talk)
    }

    /// An agent phone as [`Sipp::agent`], with extra SIPp arguments (`-d` for how long it rings).
    pub fn agent_with(
        name: &str,
        dir: &Path,
        scenario: &str,
        port: u16,
        pcap: &Path,
        calls: u32,
        extra: &[String],
    ) -> Sipp {
        // Below the range of the switch's own `bind(0)` media ports, so none takes it first.
        let media = super::quiet_port_block();
        let mut args: Vec<String> = vec![
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-mp".into(),
            media.to_string(),
            "-m".into(),
            calls.to_string(),
            "-key".into(),
            "pcap".into(),
            pcap.display().to_string(),
        ];
        args.extend_from_slice(extra);
        Sipp::start(name, dir, scenario, &args)
    }

    /// A taxpayer calling 12366 on the switch from `caller`, talking `talk_ms` after the answer.
    pub fn caller(
        name: &str,
        dir: &Path,
        switch_port: u16,
        caller: &str,
        pcap: &Path,
        talk_ms: u64,
    ) -> Sipp {
        Sipp::caller_with(
            name,
            dir,
            "caller.xml",
            switch_port,
            caller,
            pcap,
            talk_ms,
            &[],
        )
    }

    /// Like [`Sipp::caller`] with another scenario and extra arguments.
    #[allow(clippy::too_many_arguments)]
    pub fn caller_with(
        name: &str,
        dir: &Path,
        scenario: &str,
        switch_port: u16,
        caller: &str,
        pcap: &Path,
        talk_ms: u64,
        extra: &[String],
    ) -> Sipp {
        let port = super::free_port();
        let media = super::quiet_port_block();
        let mut args: Vec<String> = vec![
            format!("127.0.0.1:{switch_port}"),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-mp".into(),
            media.to_string(),
            "-s".into(),
            "12366".into(),
            "-m".into(),
            "1".into(),
            "-key".into(),
            "caller".into(),
            caller.into(),
            "-key".into(),
            "pcap".into(),
            pcap.display().to_string(),
            "-d".into(),
            talk_ms.to_string(),
        ];
        args.extend_from_slice(extra);
        Sipp::start(name, dir, scenario, &args)
    }

    /// Waits for SIPp to finish (up to `limit`), returning its exit status.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not finish in {limit:?}:\n{}",
                    self.name,
                    self.trace()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits and asserts SIPp exited 0 (every call passed its scenario).
    pub fn expect_success(&mut self, limit: Duration) {
        let status = self.wait(limit);
        assert!(
            status.success(),
            "{} failed ({status}):\n{}",
            self.name,
            self.trace()
        );
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The `<log>` lines the scenario wrote.
    pub fn actions(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}-actions.log", self.name)))
            .unwrap_or_default()
    }

    /// Every SIP message SIPp sent and received.
    pub fn messages(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}-messages.log", self.name)))
            .unwrap_or_default()
    }

    fn trace(&self) -> String {
        let errors = std::fs::read_to_string(self.dir.join(format!("{}-errors.log", self.name)))
            .unwrap_or_default();
        format!("errors:\n{errors}\nmessages:\n{}", self.messages())
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One SIP message from SIPp's message trace (`-trace_msg`).
#[derive(Debug, Clone)]
pub struct Traced {
    /// When SIPp sent or received it (local wall clock, as the trace prints it).
    pub at: chrono::NaiveDateTime,
    /// Received by SIPp (else sent).
    pub received: bool,
    /// The message text.
    pub text: String,
}

impl Traced {
    /// The first line: a request line or a status line.
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }

    /// Whether this came after `earlier`, traced by another SIPp: the switch relays within
    /// microseconds, so a receiver may note a message before its sender notes sending it;
    /// 50 ms of slack (the scenarios whose order matters wait longer than that).
    pub fn follows(&self, earlier: &Traced) -> bool {
        self.at + chrono::Duration::milliseconds(50) >= earlier.at
    }

    /// Whether it is a request of `method`.
    pub fn is_request(&self, method: &str) -> bool {
        self.first_line().starts_with(&format!("{method} "))
    }

    /// Whether it is a response with `status`.
    pub fn is_response(&self, status: u16) -> bool {
        self.first_line().starts_with(&format!("SIP/2.0 {status} "))
    }

    /// The value of the first header `name` (case-insensitive; compact forms not handled).
    pub fn header(&self, name: &str) -> Option<String> {
        self.text
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }

    /// The user part of the `sip:` URI in header `name` (or in the request line for `""`).
    pub fn uri_user(&self, name: &str) -> Option<String> {
        let value = if name.is_empty() {
            self.first_line().split_whitespace().nth(1)?.to_string()
        } else {
            self.header(name)?
        };
        let uri = value.split("sip:").nth(1)?;
        let user = uri.split('@').next()?;
        (uri.contains('@')).then(|| user.to_string())
    }
}

impl Sipp {
    /// Every SIP message SIPp sent and received, parsed from its message trace, in order.
    pub fn traced(&self) -> Vec<Traced> {
        parse_trace(&self.messages())
    }
}

/// Parses a SIPp `-trace_msg` file: blocks that start with a dashed line and a timestamp.
pub fn parse_trace(log: &str) -> Vec<Traced> {
    let mut out = Vec::new();
    for block in log
        .split("----------------------------------------------- ")
        .skip(1)
    {
        let mut lines = block.lines();
        let Some(stamp) = lines.next() else { continue };
        let Ok(at) = chrono::NaiveDateTime::parse_from_str(stamp.trim(), "%Y-%m-%d %H:%M:%S%.f")
        else {
            continue;
        };
        let Some(kind) = lines.next() else { continue };
        let received = kind.contains("received");
        let text: String = lines
            .skip_while(|l| l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        out.push(Traced { at, received, text });
    }
    out
}
