//! The local control socket: `hotline reload`, `hours`, `agent(s)` and `monitor` talk to the
//! running switch through a Unix socket only its user can open.
//!
//! Protocol: the client writes one command line (at most [`MAX_LINE`] bytes, within
//! [`READ_TIMEOUT`]): a [`Command`] as JSON, as `hotline` sends it, or as words, as a person
//! types it; the switch answers `ok` or `error` on the first line, then the details (words,
//! or one JSON object per line for listings), and closes. Every command is logged with the
//! OS user who sent it (SO_PEERCRED).

mod peer;
mod socket;

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use peer::OsUser;
pub use socket::SocketError;

use crate::command::{Command, Reply};
use crate::edge::Control;

/// The longest command line accepted, newline excluded: commands are a few words.
pub const MAX_LINE: usize = 4096;
/// How long a client may take to send its command line.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to read the answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Loads the dialplan for `hotline reload`: here, on a blocking thread, not on the
/// signalling task (a plan's prompts are WAV files to decode); the core only swaps it in.
#[derive(Debug, Clone)]
pub struct PlanLoader {
    /// The dialplan file.
    pub path: std::path::PathBuf,
    /// The listen address when it is beyond loopback and weak secrets are not allowed: a
    /// reload may not bring them in either.
    pub exposed: Option<std::net::SocketAddr>,
    /// One reload at a time, from loading to the core's answer: two at once must not let
    /// the older file's plan be swapped in last.
    pub one_at_a_time: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// What the web console takes from the plan: set anew after each accepted reload.
    pub console_plan: hotline_console::plan::PlanHandle,
}

impl PlanLoader {
    /// The plan, checked as `serve` checked the first one.
    pub fn load(&self) -> Result<std::sync::Arc<crate::plan::Plan>, String> {
        let plan = crate::plan::load(&self.path).map_err(|e| e.to_string())?;
        crate::secrets_fit(&plan.dialplan, self.exposed).map_err(|e| e.to_string())?;
        Ok(plan)
    }
}

/// Puts the control socket at `path` (mode 0600; a stale socket is replaced, anything else
/// refused) and serves it.
pub fn start(
    path: &Path,
    core: mpsc::Sender<Control>,
    loader: PlanLoader,
) -> Result<(), SocketError> {
    let listener = socket::bind_private(path)?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let core = core.clone();
                    let loader = loader.clone();
                    tokio::spawn(async move {
                        if let Err(e) = serve_one(stream, core, loader).await {
                            warn!(error = %e, "control connection failed");
                        }
                    });
                }
                Err(e) => {
                    warn!(error = %e, "control socket accept failed");
                    return;
                }
            }
        }
    });
    Ok(())
}

/// Why a connection's command line was not taken.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("no command within {} s", READ_TIMEOUT.as_secs())]
    Timeout,
    #[error("command longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("command is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one command line: at most [`MAX_LINE`] bytes, within `limit`.
async fn read_line(rd: impl AsyncRead + Unpin, limit: Duration) -> Result<String, LineError> {
    let mut buf = Vec::new();
    // One byte more than allowed, to tell a line of exactly MAX_LINE from a longer one.
    let mut limited = BufReader::new(rd).take(MAX_LINE as u64 + 1);
    tokio::time::timeout(limit, limited.read_until(b'\n', &mut buf))
        .await
        .map_err(|_| LineError::Timeout)??;
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    String::from_utf8(buf).map_err(|_| LineError::NotText)
}

async fn serve_one(
    stream: UnixStream,
    core: mpsc::Sender<Control>,
    loader: PlanLoader,
) -> std::io::Result<()> {
    let who = OsUser::of(&stream).await;
    let shown = who
        .as_ref()
        .map_or_else(|| "unknown".to_string(), OsUser::to_string);
    let (rd, mut wr) = stream.into_split();
    let reply = match read_line(rd, READ_TIMEOUT).await {
        Ok(line) => match Command::parse(&line) {
            Ok(command) => {
                // The agents listing is what dashboards poll: not worth a line each time.
                if command.polled() {
                    debug!(os_user = %shown, ?command, "control command");
                } else {
                    info!(os_user = %shown, ?command, "control command");
                }
                carry_out(
                    command,
                    who.as_ref().map(OsUser::audit_name),
                    &core,
                    &loader,
                )
                .await
            }
            Err(e) => {
                warn!(os_user = %shown, line = %line.chars().take(200).collect::<String>(), "control command not understood");
                Err(e.to_string())
            }
        },
        Err(e) => {
            warn!(os_user = %shown, error = %e, "control command refused");
            Err(e.to_string())
        }
    };
    let text = match reply {
        Ok(reply) => format!("ok\n{}\n", reply.text()),
        Err(msg) => format!("error\n{msg}\n"),
    };
    let write = async {
        wr.write_all(text.as_bytes()).await?;
        wr.shutdown().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Passes one command to the core and waits for its answer; a reload's plan is loaded
/// first, here.
pub(crate) async fn carry_out(
    command: Command,
    os_user: Option<String>,
    core: &mpsc::Sender<Control>,
    loader: &PlanLoader,
) -> Result<Reply, String> {
    let (tx, rx) = oneshot::channel();
    let _reloading;
    let mut reloaded = None;
    let control = if command == Command::Reload {
        _reloading = loader.one_at_a_time.lock().await;
        let loader = loader.clone();
        let loaded = tokio::task::spawn_blocking(move || loader.load())
            .await
            .unwrap_or_else(|e| Err(format!("loading the dialplan failed: {e}")));
        reloaded = loaded.as_ref().ok().cloned();
        Control::Reload { loaded, reply: tx }
    } else {
        Control::Command {
            command,
            os_user,
            reply: tx,
        }
    };
    if core.send(control).await.is_err() {
        return Err("switch is shutting down".to_string());
    }
    let answer = rx
        .await
        .unwrap_or_else(|_| Err("switch is shutting down".to_string()));
    if let (Ok(_), Some(plan)) = (&answer, reloaded) {
        loader
            .console_plan
            .set(crate::plan::console_view(&plan.dialplan));
    }
    answer
}

/// Sends one command to a running switch and returns (succeeded, message).
pub async fn request(path: &Path, command: &Command) -> std::io::Result<(bool, String)> {
    let command = command.to_line();
    if command.len() > MAX_LINE || command.contains('\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("a command is one line of at most {MAX_LINE} bytes"),
        ));
    }
    let mut stream = UnixStream::connect(path).await?;
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut text).await?;
    let (status, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    Ok((status == "ok", rest.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_line_is_read_up_to_its_newline() {
        let line = read_line(&b"agent login 1003\nmore"[..], READ_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(line, "agent login 1003");
        let exact = format!("{}\n", "a".repeat(MAX_LINE));
        let read = read_line(exact.as_bytes(), READ_TIMEOUT).await;
        assert_eq!(read.unwrap().len(), MAX_LINE);
    }

    #[tokio::test]
    async fn a_line_beyond_the_limit_is_refused() {
        let long = "a".repeat(MAX_LINE + 1);
        assert!(matches!(
            read_line(long.as_bytes(), READ_TIMEOUT).await,
            Err(LineError::TooLong)
        ));
        assert!(matches!(
            read_line(&[0xff, 0xfe, b'\n'][..], READ_TIMEOUT).await,
            Err(LineError::NotText)
        ));
    }

    #[tokio::test]
    async fn a_client_that_says_nothing_is_given_up_on() {
        let (_client, server) = UnixStream::pair().unwrap();
        let read = read_line(server, Duration::from_millis(50));
        assert!(matches!(read.await, Err(LineError::Timeout)));
    }
}
