//! A voice prompt recorded from a desk phone (the voice content page's "record from my
//! phone", `prompt record PROMPT PHONE` at the socket): the switch rings the phone, plays a
//! beep once it answers, and records what is said until `#`, the hang-up or two minutes.
//! The closed file goes out as [`Output::PromptRecorded`](crate::Output) for the edge to
//! make it the prompt (keeping the old one), audit and reload; the machine touches no file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_acd::CallRef;
use hotline_media::call::MediaEvent;
use hotline_sip::transaction::Peer;

use super::ringing_phone::RingingFor;
use super::session::{Answered, Session, SessionKind};
use crate::core::Core;
use crate::media_ctl::{MediaHandle, StartMedia};
use crate::notes::{note, About};
use crate::out::Output;

/// The prompt played before the recording starts (skipped, and the recording starts at
/// once, if the prompt directory has none).
pub const BEEP: &str = "beep";
/// The longest take.
const MAX_TAKE: Duration = Duration::from_secs(120);
/// Where takes are written, under the prompt directory (hidden from the prompt list).
const TAKES_DIR: &str = ".takes";
/// The play id of the beep.
const BEEP_PLAY: u32 = 1;

/// Who asked for which prompt from which phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TakeAsk {
    pub prompt: String,
    /// The console user or OS user who asked.
    pub asked_by: Option<String>,
    /// The number of the phone recorded from.
    pub phone: String,
}

/// A take from answer to its closed file; outlives its phone call when the phone hangs up
/// mid-take, until the file is closed.
#[derive(Debug)]
pub(crate) struct Take {
    pub ask: TakeAsk,
    pub path: PathBuf,
    /// The beep has played and the voice is being written.
    pub recording: bool,
}

/// The takes in progress, by their session.
pub(crate) type Takes = HashMap<CallRef, Take>;

impl Core {
    /// `prompt record PROMPT PHONE`: rings `phone` to record a new version of `prompt`.
    pub(crate) fn record_prompt_from(
        &mut self,
        now: Instant,
        prompt: &str,
        phone: &str,
    ) -> Result<String, String> {
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if !prompt.chars().all(plain) || self.plan.prompts.get(prompt).is_none() {
            return Err(format!("{prompt} is not a prompt of this dialplan"));
        }
        let d = &self.plan.dialplan;
        if d.agent(phone).is_none() && d.supervisor(phone).is_none() {
            return Err(format!("{phone} is not a phone of this dialplan"));
        }
        let busy = self.takes.values().any(|t| t.ask.phone == phone)
            || self
                .owners
                .ringing_phones()
                .any(|(_, p)| p.user == phone && p.purpose.monitored_call().is_none());
        if busy {
            return Err(format!("{phone} is recording a prompt already"));
        }
        let shown = self.plan.dialplan.service_number().to_string();
        let purpose = RingingFor::PromptTake {
            prompt: prompt.to_string(),
            asked_by: self.operator_user.clone(),
        };
        self.ring_phone(now, phone, &shown, purpose)?;
        note!(
            self.notes,
            Info,
            About::Switch,
            "ringing a phone to record a prompt prompt={} phone={} asked_by={:?}",
            prompt,
            phone,
            self.operator_user
        );
        Ok(format!(
            "ringing {phone}'s phone to record {prompt}: speak after the beep, # to finish"
        ))
    }

    /// The phone answered: beep, then record.
    pub(crate) fn start_prompt_take(
        &mut self,
        now: Instant,
        peer: Peer,
        a: Answered,
        ask: TakeAsk,
    ) {
        let call = self.alloc_call();
        let path = self
            .plan
            .dialplan
            .prompt_dir
            .join(TAKES_DIR)
            .join(format!("{}-{}.wav", ask.prompt, call.0));
        let about = About::Phone {
            user: ask.phone.clone(),
            session: call.0,
        };
        let local_media = a.port.local_addr();
        let start = StartMedia {
            call,
            call_id: format!("phone-{}", call.0),
            caller: (a.port, a.peer_media),
            agent: None,
            recording: None,
            prompts: Arc::clone(&self.prompts),
            events: true,
        };
        let media = MediaHandle::start(self.media_ids.fresh(), &self.out, start);
        media.play(BEEP_PLAY, vec![BEEP.to_string()], false);
        note!(
            self.notes,
            Info,
            about.clone(),
            "recording prompt {} from this phone",
            ask.prompt
        );
        self.add_session(
            call,
            Session {
                user: ask.phone.clone(),
                peer,
                dialog: a.dialog,
                about,
                kind: SessionKind::PromptTake(media),
                local_media,
                sdp: a.sdp,
                acked: a.acked,
                bye_pending: None,
                alive_checked: now,
            },
        );
        self.takes.insert(
            call,
            Take {
                ask,
                path,
                recording: false,
            },
        );
    }

    /// What a take's media reported: the beep over starts the recording, `#` ends it.
    pub(crate) fn on_take_media(&mut self, now: Instant, call: CallRef, event: MediaEvent) {
        if let MediaEvent::VoicemailDone { samples, .. } = event {
            return self.take_closed(now, call, samples);
        }
        let media = match self.sessions.get(&call).map(|s| &s.kind) {
            Some(SessionKind::PromptTake(media)) => media,
            _ => return,
        };
        let Some(take) = self.takes.get_mut(&call) else {
            return;
        };
        match event {
            MediaEvent::PlayFinished(BEEP_PLAY) if !take.recording => {
                take.recording = true;
                media.start_voicemail(take.path.clone(), MAX_TAKE);
            }
            MediaEvent::Digit('#') if take.recording => media.stop_voicemail(),
            _ => {}
        }
    }

    /// The take's file is closed (`#`, two minutes, or the phone hung up): it goes out to
    /// become the prompt, and the phone is hung up.
    pub(crate) fn take_closed(&mut self, now: Instant, call: CallRef, samples: u64) {
        let Some(take) = self.takes.remove(&call) else {
            return;
        };
        let about = About::Phone {
            user: take.ask.phone.clone(),
            session: call.0,
        };
        if samples == 0 {
            note!(
                self.notes,
                Warn,
                about,
                "prompt {} not recorded: nothing was written",
                take.ask.prompt
            );
        } else {
            note!(
                self.notes,
                Info,
                about,
                "prompt {} recorded samples={}",
                take.ask.prompt,
                samples
            );
            self.out.push(Output::PromptRecorded {
                prompt: take.ask.prompt,
                path: take.path,
                samples,
                phone: take.ask.phone,
                asked_by: take.ask.asked_by,
            });
        }
        if self.sessions.contains_key(&call) {
            self.end_session(now, call, true);
        }
    }

    /// A take's phone call ended: a take that never started recording is dropped (no file
    /// will come); one recording is closed, and its file is still taken when it comes.
    pub(crate) fn take_hung_up(&mut self, call: CallRef, media: MediaHandle) {
        match self.takes.get(&call) {
            Some(take) if take.recording => media.stop_voicemail(),
            _ => {
                self.takes.remove(&call);
            }
        }
    }
}
