//! A voice prompt recorded from a phone, made the prompt: the take (the machine's
//! `Output::PromptRecorded`) becomes the current version in the prompt directory, the one
//! it replaces is kept in the history, the change is written to the audit chain as the
//! console's uploads are, and the dialplan is reloaded so it plays from the next call on.
//! All of it off the signalling task.

use std::path::{Path, PathBuf};

use chrono::Utc;
use hotline_b2bua::command::Command;
use hotline_console::voice::PromptLibrary;
use hotline_record::qa::{Action, NewAudit};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::control::{carry_out, PlanLoader};
use crate::edge::Control;

/// A take to install.
#[derive(Debug, Clone)]
pub(crate) struct Take {
    pub prompt: String,
    pub path: PathBuf,
    pub phone: String,
    pub asked_by: Option<String>,
}

/// What installs takes: the audit's store and the way to reload.
#[derive(Debug, Clone)]
pub(crate) struct PromptTakes {
    pub db: PathBuf,
    pub control: mpsc::Sender<Control>,
    pub loader: PlanLoader,
}

impl PromptTakes {
    /// Installs `take`, audits it and reloads, in the background.
    pub(crate) fn install(&self, take: Take) {
        let this = self.clone();
        tokio::spawn(async move {
            let db = this.db.clone();
            let t = take.clone();
            let done = tokio::task::spawn_blocking(move || install(&db, &t)).await;
            match done {
                Ok(Ok(detail)) => {
                    info!(prompt = %take.prompt, phone = %take.phone, %detail, "voice prompt recorded from a phone")
                }
                Ok(Err(why)) => {
                    warn!(prompt = %take.prompt, phone = %take.phone, %why, "recorded prompt not installed");
                    return;
                }
                Err(e) => {
                    warn!(prompt = %take.prompt, error = %e, "recorded prompt not installed");
                    return;
                }
            }
            match carry_out(Command::Reload, take.asked_by, &this.control, &this.loader).await {
                Ok(reply) => {
                    info!(prompt = %take.prompt, said = %reply.text(), "reloaded for the recorded prompt")
                }
                Err(why) => {
                    warn!(prompt = %take.prompt, %why, "recorded prompt not live: the reload failed")
                }
            }
        });
    }
}

/// The take's directory is `PROMPTS/.takes`: the library is its parent.
fn prompt_dir(take: &Path) -> Option<PathBuf> {
    Some(take.parent()?.parent()?.to_path_buf())
}

fn install(db: &Path, take: &Take) -> Result<String, String> {
    let dir = prompt_dir(&take.path).ok_or("the take has no prompt directory")?;
    let pcm = PromptLibrary::read(&take.path).map_err(|e| format!("take unreadable: {e}"))?;
    let library = PromptLibrary::new(dir, vec![take.prompt.clone()]);
    let change = library
        .install(&take.prompt, &pcm, Utc::now())
        .map_err(|e| format!("prompt not written: {e}"))?;
    if let Err(e) = std::fs::remove_file(&take.path) {
        warn!(path = %take.path.display(), error = %e, "installed take not removed");
    }
    let detail = format!(
        "recorded from phone {}, now {:.1} s; previous kept as {}",
        take.phone,
        change.samples as f64 / 8_000.0,
        change.kept_as.as_deref().unwrap_or("(none)")
    );
    let actor = match take.asked_by.as_deref() {
        Some(by) => by.strip_prefix("web:").unwrap_or(by).to_string(),
        None => format!("phone {}", take.phone),
    };
    let audit = NewAudit {
        at: Utc::now(),
        actor,
        action: Action::Voice,
        call_id: None,
        subject: format!("prompt {}", take.prompt),
        reason: "recorded from a phone".to_string(),
        detail: detail.clone(),
    };
    hotline_record::qa::record_audit(db, &audit, &hotline_console::audit::seal)
        .map_err(|e| format!("installed, but the audit could not be written: {e}"))?;
    Ok(detail)
}
