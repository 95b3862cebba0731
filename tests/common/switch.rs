//! The switch under test: the real binary, on a free port, with its own dialplan,
//! recordings directory, database and control socket in a temporary directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// Where the tests have always found them; each test binary uses some.
#[allow(unused_imports)]
pub use super::audio::{find_prompt, prompt_pcm};
#[allow(unused_imports)]
pub use super::plans::{any_port, dialplan, test_menu, wrap_up};

/// A running `hotline serve`.
pub struct Switch {
    child: Child,
    /// The SIP port on 127.0.0.1.
    pub port: u16,
    /// Its scratch directory.
    pub dir: tempfile::TempDir,
    /// What it printed on stdout after its first line.
    lines: mpsc::Receiver<String>,
}

impl Switch {
    /// Starts the switch on `dialplan` (TOML text), waiting until it listens.
    pub fn start(dialplan: &str) -> Switch {
        Switch::start_with(dialplan, &[])
    }

    /// Like [`Switch::start`] with extra `serve` arguments (`--hours open`).
    pub fn start_with(dialplan: &str, extra: &[&str]) -> Switch {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("dialplan.toml"), dialplan).expect("write dialplan");
        let plan = dir.path().join("dialplan.toml");
        Switch::launch(dir, &plan, extra)
    }

    /// Starts the switch on the repo's bundled plan (`dialplans/henan.toml`, its prompts
    /// and `[switch]` settings exactly as they ship), with `extra` `serve` arguments.
    pub fn start_bundled(extra: &[&str]) -> Switch {
        let dir = tempfile::tempdir().expect("temp dir");
        let plan = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../dialplans/henan.toml"
        ));
        Switch::launch(dir, plan, extra)
    }

    /// Runs `hotline serve` on `plan` with its files in `dir`, waiting until it listens.
    fn launch(dir: tempfile::TempDir, plan: &std::path::Path, extra: &[&str]) -> Switch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--dialplan")
            .arg(plan)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--recordings")
            .arg(dir.path().join("recordings"))
            .arg("--db")
            .arg(dir.path().join("calls.db"))
            .arg("--control")
            .arg(dir.path().join("hotline.sock"))
            .args(extra)
            // No web console unless the test asks for one (its default port is shared).
            .args(if extra.contains(&"--http") {
                &[][..]
            } else {
                &["--http", "off"][..]
            })
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
        Switch {
            child,
            port,
            dir,
            lines: rx,
        }
    }

    /// The web console's address (`http://127.0.0.1:PORT`), for a switch started with
    /// `--http 127.0.0.1:0`.
    pub fn console_url(&self) -> String {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no console line:\n{}", self.log()));
        line.strip_prefix("hotline: console on ")
            .unwrap_or_else(|| panic!("not the console line: {line:?}"))
            .to_string()
    }

    /// Kills the switch the hard way (SIGKILL), as a crash or an operator's `kill -9` would.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the switch to stop as an operator or systemd would (SIGTERM).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "SIGTERM sent");
    }

    /// Waits up to `limit` for the switch to exit; its exit status, if it did.
    pub fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The switch's process id (to find the sockets it holds).
    pub fn pid(&self) -> u32 {
        self.child.id()
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

    /// `hotline security` against this switch and its call store, as an operator runs it:
    /// the JSON object, or the words.
    pub fn security(&self, json: bool) -> String {
        let db = self.db();
        let db = db.to_str().expect("a UTF-8 scratch path");
        let mut args = vec!["security", "--db", db];
        if json {
            args.push("--json");
        }
        args.push("--control");
        hotline(&args, Some(&self.control()))
    }

    /// `hotline security --json`, parsed.
    pub fn security_json(&self) -> serde_json::Value {
        let out = self.security(true);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
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

    /// The first call's record once it has ended (waiting up to 10 s), with all records.
    pub fn ended_calls(&self) -> Vec<serde_json::Value> {
        self.calls_when(|c| c.first().is_some_and(|c| c["ended_at"].is_string()))
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

impl Switch {
    /// Like [`Switch::start_with`], with the repo's prompts where a dialplan without `[ivr]`
    /// looks for them (`../prompts` beside the dialplan file's directory), so the switch's
    /// own prompts (feature-code confirmations) play. The switch reads the dialplan through
    /// `plan/dialplan.toml`, a symlink to [`Switch::dialplan_path`], so edits there followed
    /// by `hotline reload` work as with [`Switch::start`].
    pub fn start_with_prompts(dialplan: &str, extra: &[&str]) -> Switch {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("dialplan.toml"), dialplan).expect("write dialplan");
        let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts");
        std::os::unix::fs::symlink(prompts, dir.path().join("prompts")).expect("link prompts");
        std::fs::create_dir(dir.path().join("plan")).expect("plan dir");
        let plan = dir.path().join("plan").join("dialplan.toml");
        std::os::unix::fs::symlink(dir.path().join("dialplan.toml"), &plan).expect("link plan");
        Switch::launch(dir, &plan, extra)
    }

    /// The SIP port of `agent`'s static seat in the dialplan now in force, which its desk
    /// phone must send from to be trusted; `None` for a phone that registers, or a seat
    /// trusted from any port of its address (`any_port`).
    pub fn seat(&self, agent: &str) -> Option<u16> {
        let plan = std::fs::read_to_string(self.dir.path().join("dialplan.toml")).ok()?;
        let start = plan.find(&format!("id = \"{agent}\"\n"))?;
        let block = plan[start..].split("\n[[").next()?;
        if block.contains("any_port = true") {
            return None;
        }
        let contact = format!("contact = \"sip:{agent}@127.0.0.1:");
        let at = block.find(&contact)? + contact.len();
        block[at..].split('"').next()?.parse().ok()
    }

    /// `hotline agents --json` from the running switch, parsed.
    pub fn agents(&self) -> Vec<serde_json::Value> {
        let out = hotline(&["agents", "--json", "--control"], Some(&self.control()));
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }

    /// One agent's line of `hotline agents --json`, waiting up to 5 s until `pred` holds.
    pub fn agent_when(
        &self,
        id: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let line = self
                .agents()
                .into_iter()
                .find(|a| a["id"] == id)
                .unwrap_or_default();
            if pred(&line) || std::time::Instant::now() > deadline {
                return line;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `agent_states` rows of `agent` as (from, to, reason), oldest first, waiting up to
    /// 5 s until `pred` holds (rows are written asynchronously).
    pub fn agent_states_when(
        &self,
        agent: &str,
        pred: impl Fn(&[(String, String, Option<String>)]) -> bool,
    ) -> Vec<(String, String, Option<String>)> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let rows: Vec<_> = hotline_record::list_agent_states(&self.db(), None)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.agent == agent)
                .map(|s| {
                    let from = s.from.map_or("", |f| f.as_str());
                    (
                        from.to_string(),
                        s.to.as_str().to_string(),
                        s.reason.map(Into::into),
                    )
                })
                .collect();
            if pred(&rows) || std::time::Instant::now() > deadline {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `legs` rows of one call (waiting up to 5 s until there are `n`).
    pub fn legs_when(&self, call_id: &str, n: usize) -> Vec<hotline_record::CallLeg> {
        let id: hotline_record::CallId = call_id.parse().expect("call id");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let legs = hotline_record::list_legs(&self.db(), &id).unwrap_or_default();
            if legs.len() >= n && legs.iter().all(|l| l.ended_at.is_some())
                || std::time::Instant::now() > deadline
            {
                return legs;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Switch {
    /// `hotline qa audit --verify` on the switch's store passes: the audit chain is whole.
    #[allow(dead_code)]
    pub fn assert_audit_verifies(&self) {
        let verify = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["qa", "audit", "--verify", "--db"])
            .arg(self.db())
            .output()
            .expect("hotline qa audit");
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }

    /// `hotline user add ID ARGS…` on the switch's store, the password on standard input.
    #[allow(dead_code)]
    pub fn add_user(&self, id: &str, args: &[&str], password: &str) {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["user", "add", id])
            .args(args)
            .arg("--db")
            .arg(self.db())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hotline user add");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("password");
        drop(stdin);
        let out = child.wait_with_output().expect("hotline user add");
        assert!(
            out.status.success(),
            "user add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
