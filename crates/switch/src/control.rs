//! The local control socket: `hotline reload`, `hours`, `agent(s)` and `monitor` talk to the
//! running switch through a Unix socket only its user can open.
//!
//! Protocol: the client writes one command line; the switch answers `ok` or `error` on the
//! first line, then the details, and closes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::core::Control;

/// Binds the control socket at `path` (replacing a stale one) and serves it.
pub fn start(path: &Path, core: mpsc::Sender<Control>) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let core = core.clone();
                    tokio::spawn(async move {
                        if let Err(e) = serve_one(stream, core).await {
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

async fn serve_one(stream: UnixStream, core: mpsc::Sender<Control>) -> std::io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let mut line = String::new();
    BufReader::new(rd).read_line(&mut line).await?;
    let reply = match line.trim() {
        "reload" => {
            let (tx, rx) = oneshot::channel();
            if core.send(Control::Reload(tx)).await.is_err() {
                Err("switch is shutting down".to_string())
            } else {
                rx.await
                    .unwrap_or_else(|_| Err("switch is shutting down".to_string()))
            }
        }
        cmd if cmd.starts_with("hours ") => {
            let force = match cmd.trim_start_matches("hours ").trim() {
                "open" => Some(hotline_ivr::Hours::Open),
                "closed" => Some(hotline_ivr::Hours::Closed),
                "auto" => Some(hotline_ivr::Hours::Auto),
                _ => None,
            };
            match force {
                Some(force) => {
                    let (tx, rx) = oneshot::channel();
                    if core.send(Control::Hours(force, tx)).await.is_err() {
                        Err("switch is shutting down".to_string())
                    } else {
                        rx.await
                            .unwrap_or_else(|_| Err("switch is shutting down".to_string()))
                    }
                }
                None => Err("hours takes open, closed or auto".to_string()),
            }
        }
        "" => Err("empty command".to_string()),
        // Agents and supervision: parsed and carried out by the core (see `operator`).
        other => {
            let (tx, rx) = oneshot::channel();
            if core
                .send(Control::Operator(other.to_string(), tx))
                .await
                .is_err()
            {
                Err("switch is shutting down".to_string())
            } else {
                rx.await
                    .unwrap_or_else(|_| Err("switch is shutting down".to_string()))
            }
        }
    };
    let text = match reply {
        Ok(msg) => format!("ok\n{msg}\n"),
        Err(msg) => format!("error\n{msg}\n"),
    };
    wr.write_all(text.as_bytes()).await?;
    wr.shutdown().await
}

/// Sends one command to a running switch and returns (succeeded, message).
pub async fn request(path: &Path, command: &str) -> std::io::Result<(bool, String)> {
    let mut stream = UnixStream::connect(path).await?;
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut text).await?;
    let (status, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    Ok((status == "ok", rest.trim_end().to_string()))
}
