//! Calls with a voice menu: the switch answers at once, the IVR machine drives prompts,
//! keys, the queue, voicemail and callback numbers; when an agent answers, their number is
//! announced (报工号) before the two are connected, and after the agent hangs up the caller
//! may rate the service.
//!
//! A caller who chooses to leave a message is on the callback list from the recording's
//! first sample, with the WAV's path: however the message ends (`#`, its maximum, the caller
//! hanging up, the switch stopping or dying), nobody who spoke to the voicemail is lost.
//! A message that ends with no audio keeps its caller by number only; a caller who hangs
//! up during the voicemail's prompts is listed the same way.

use hotline_record::StoreWrite;
use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Instant;

use crate::notes::note;
use hotline_acd::{CallRef, QueueId};
use hotline_ivr::{Action as IvrAction, Event as IvrEvent, IvrCall};
use hotline_media::call::MediaEvent;
use hotline_record::{Callback, CallbackKind, HungUpBy, Outcome};
use hotline_sip::dialog::Dialog;

use super::{open_recording, Party, Talking};
use crate::call::Ending;
use crate::core::Core;
use crate::media::PeerMedia;
use crate::media_ctl::{MediaHandle, PortGrant, StartMedia};

/// A call's voice-menu state, from the switch's answer to the hang-up.
pub(crate) struct MenuSession {
    pub machine: IvrCall,
    pub media: MediaHandle,
    pub caller_dialog: Dialog,
    /// When the caller joined the queue, for the time waited.
    pub queued_at: Option<Instant>,
    /// The answering agent's media, held while their number is announced.
    pub agent_media: Option<(PortGrant, PeerMedia)>,
    /// Voicemails started so far, so that a second message of the call gets its own file.
    pub voicemails: u32,
    /// The earliest deadline of this call in the core's menu timers: a key flood must not
    /// pile up one timer entry per key.
    pub armed: Option<Instant>,
    /// Keys sent by SIP INFO, held to a person's pace, on a clock from the menu's start.
    pub info_keys: (Instant, hotline_media::key_pace::KeyPace),
    /// When the menu answered: a caller choosing for longer than `max_menu` is ended.
    pub started: Instant,
}

impl Core {
    /// Answers a call to 12366 at once and starts its voice menu.
    pub(crate) fn start_menu_call(&mut self, now: Instant, call: CallRef) {
        let Some(menu) = self.plan.dialplan.menu.clone() else {
            return;
        };
        let hours = self.hours_now();
        let contact = self.local.contact();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(caller_dialog) =
            hotline_sip::dialog::Dialog::as_uas(&c.caller.invite, &c.caller.tag, &contact)
        else {
            return;
        };
        let answer =
            self.local
                .answer_with_sdp(&c.caller.invite, &c.caller.tag, &c.caller.answer_sdp);
        self.endpoint.respond(now, c.caller.tx, answer);
        let recording = open_recording(&self.notes, &self.recordings, self.wall, c);
        c.record.outcome = Outcome::Ivr;
        let Some(port) = c.caller.media.take() else {
            return;
        };
        let start = StartMedia {
            call,
            call_id: c.id.as_str().to_string(),
            caller: (port, c.caller.peer_media),
            agent: None,
            recording,
            prompts: self.prompts.clone(),
            events: true,
        };
        let media = MediaHandle::start(self.media_ids.fresh(), &self.out, start);
        let (machine, actions) = IvrCall::start(Arc::clone(&menu), hours, now);
        note!(self.notes, Info, c.about(), "answered by the voice menu");
        c.stage = super::Stage::Menu {
            talking: None,
            menu: Box::new(MenuSession {
                machine,
                media,
                caller_dialog,
                queued_at: None,
                agent_media: None,
                voicemails: 0,
                armed: None,
                info_keys: (now, Default::default()),
                started: now,
            }),
        };
        self.out.record(&c.record);
        self.apply_ivr(now, call, actions);
    }

    /// Feeds one event to a call's menu and carries out what it says.
    pub(crate) fn ivr_event(&mut self, now: Instant, call: CallRef, event: IvrEvent) {
        let Some(session) = self.calls.get_mut(&call).and_then(|c| c.menu_mut()) else {
            return;
        };
        let actions = session.machine.handle(event, now);
        self.apply_ivr(now, call, actions);
    }

    fn apply_ivr(&mut self, now: Instant, call: CallRef, actions: Vec<IvrAction>) {
        for action in actions {
            self.apply_one(now, call, action);
        }
        self.arm_menu_timer(call);
    }

    /// Puts the call's menu deadline in the timers, unless an earlier one is there already
    /// (which, when it comes, arms the later one).
    fn arm_menu_timer(&mut self, call: CallRef) {
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.menu_mut()) else {
            return;
        };
        if let Some(at) = m.machine.poll_timeout() {
            if m.armed.is_none_or(|armed| at < armed) {
                m.armed = Some(at);
                self.ivr_timers.push(Reverse((at, call)));
            }
        }
    }

    fn apply_one(&mut self, now: Instant, call: CallRef, action: IvrAction) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        // The stage alone is borrowed: the record and id are written beside it.
        let super::Stage::Menu { menu: m, .. } = &mut c.stage else {
            return;
        };
        match action {
            IvrAction::Play {
                id,
                prompts,
                looped,
            } => {
                let names = prompts.iter().map(|p| p.to_string()).collect();
                m.media.play(id, names, looped);
            }
            IvrAction::StopPlaying => m.media.stop_playing(),
            IvrAction::Entered(node) => {
                let node = node.to_string();
                record_path(&mut c.record.ivr_path, &node);
                c.record.ivr_node = Some(node);
                self.out.record(&c.record);
            }
            IvrAction::Queue { skill, region } => {
                m.queued_at = Some(now);
                if c.record.queued_at.is_none() {
                    c.record.queued_at = Some(self.wall);
                }
                m.agent_media = None;
                if !c.record.agent_announced {
                    // The agent dropped before being announced: as if never answered. A
                    // transferred call keeps who answered it first (the legs list the rest).
                    c.record.agent = None;
                    c.record.answered_at = None;
                }
                c.record.hung_up_by = None;
                let queue = region
                    .or_else(|| c.record.region.clone())
                    .unwrap_or_else(|| self.plan.dialplan.switch.centre.as_str().to_string());
                c.record.skill = skill;
                // A call answered before (handed on to a queue) stays answered.
                if c.record.answered_at.is_none() {
                    c.record.outcome = Outcome::Queued;
                }
                note!(
                    self.notes,
                    Info,
                    c.about(),
                    "queued queue={} skill={:?}",
                    queue,
                    c.record.skill
                );
                let legacy = self
                    .plan
                    .dialplan
                    .region_named(&queue)
                    .and_then(|r| r.legacy_trunk())
                    .map(str::to_string);
                // Its trunk failed at once just now (back here by the fallback): not rung
                // again in this step; the caller waits for the centre's agents instead.
                let (queue, legacy) = match legacy {
                    Some(_) if c.failed_at_once == Some(now) => {
                        note!(self.notes, Warn, c.about(), "the legacy city's trunk could not be rung; queued for the centre queue={}", queue);
                        (self.plan.dialplan.switch.centre.as_str().to_string(), None)
                    }
                    other => (queue, other),
                };
                if legacy.is_some() {
                    // A queue of a city still on its old system: rung like a transfer there,
                    // back to the caller's own queue if it does not answer.
                    c.rung = super::Rung::ForTransfer;
                }
                self.out.record(&c.record);
                let skill = c.record.skill.clone();
                match legacy {
                    Some(trunk) => {
                        let number = self.plan.dialplan.service_number().to_string();
                        self.ring_trunk(now, call, &trunk, &number);
                    }
                    None => {
                        self.acd.call_arrived_for(now, call, QueueId(queue), skill);
                    }
                }
            }
            IvrAction::LeaveQueue => {
                // The longest wait is over: out of the queue, on to voicemail or a callback.
                let waited = self.acd.abandoned(now, call);
                m.queued_at = None;
                c.record.outcome = Outcome::Ivr;
                c.record.waited_ms = waited.map(|w| w.as_millis() as u64);
                note!(
                    self.notes,
                    Info,
                    c.about(),
                    "left the queue after its longest wait waited_ms={:?}",
                    c.record.waited_ms
                );
                self.out.record(&c.record);
            }
            IvrAction::QueryPosition => {
                let ahead = self.acd.position(call).unwrap_or(0);
                self.ivr_event(now, call, IvrEvent::Position(ahead));
            }
            IvrAction::RecordVoicemail { .. } if self.recordings.disk_low => {
                // Below the free-space floor nothing new is written; the caller is still
                // followed up, by number.
                note!(
                    self.notes,
                    Warn,
                    c.about(),
                    "disk below its floor: voicemail not recorded"
                );
                if number_known(&c.record) {
                    let cb = callback_of(self.wall, &c.record, CallbackKind::Voicemail, None, None);
                    self.out.write(StoreWrite::Callback(Box::new(cb)));
                }
            }
            IvrAction::RecordVoicemail { max } => {
                m.voicemails += 1;
                let path = voicemail_path(&self.recordings.root, self.wall, &c.id, m.voicemails);
                // Listed now rather than at the end, which a crash or kill would never reach.
                let cb = callback_of(
                    self.wall,
                    &c.record,
                    CallbackKind::Voicemail,
                    None,
                    Some(path.clone()),
                );
                self.out.write(StoreWrite::Callback(Box::new(cb)));
                m.media.start_voicemail(path, max);
            }
            IvrAction::StopRecording => m.media.stop_voicemail(),
            IvrAction::SaveCallback(number) => {
                let cb = callback_of(
                    self.wall,
                    &c.record,
                    CallbackKind::Callback,
                    Some(number),
                    None,
                );
                self.out.write(StoreWrite::Callback(Box::new(cb)));
            }
            IvrAction::SurveyScore(score) => {
                c.record.survey_score = Some(score);
                self.out.record(&c.record);
            }
            IvrAction::Connect => {
                if let Some(agent) = m.agent_media.take() {
                    m.media.connect_agent(agent);
                    c.record.agent_announced = true;
                    self.out.record(&c.record);
                }
            }
            IvrAction::Hangup => self.end(now, call, Ending::By(HungUpBy::Switch)),
        }
    }

    /// What the call's media task reported.
    pub(crate) fn on_media_event(&mut self, now: Instant, call: CallRef, event: MediaEvent) {
        if self.takes.contains_key(&call) {
            self.on_take_media(now, call, event);
            return;
        }
        if self.sessions.contains_key(&call) {
            self.on_session_media(now, call, event);
            return;
        }
        match event {
            MediaEvent::Digit(d) => self.ivr_event(now, call, IvrEvent::Digit(d)),
            MediaEvent::PlayFinished(id) => {
                self.ivr_event(now, call, IvrEvent::PromptsFinished(id))
            }
            MediaEvent::VoicemailDone { path, samples } => {
                // Also after the call has ended: a caller who hangs up ends the message.
                if samples == 0 {
                    self.out
                        .write(StoreWrite::VoicemailWithoutAudio(path.clone()));
                }
                self.ivr_event(now, call, IvrEvent::RecordingFinished);
            }
        }
    }

    /// Fires the menu timeouts that are due.
    pub(crate) fn on_ivr_timers(&mut self, now: Instant) {
        while let Some(Reverse((at, call))) = self.ivr_timers.peek().copied() {
            if at > now {
                break;
            }
            self.ivr_timers.pop();
            let Some(m) = self.calls.get_mut(&call).and_then(|c| c.menu_mut()) else {
                continue;
            };
            if m.armed == Some(at) {
                m.armed = None;
            }
            let due = m.machine.poll_timeout().is_some_and(|t| t <= now);
            if due {
                self.ivr_event(now, call, IvrEvent::Timeout);
            } else {
                // An earlier deadline came and went: the menu's later one takes its place.
                self.arm_menu_timer(call);
            }
        }
    }

    /// The agent answered a menu call: hold their media while their number is announced.
    pub(crate) fn menu_agent_answered(
        &mut self,
        now: Instant,
        call: CallRef,
        talking: Talking,
        agent_media: (PortGrant, PeerMedia),
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let party = talking.party.clone();
        let first = c.record.answered_at.is_none();
        if first {
            c.record.agent = party.agent().map(str::to_string);
            c.record.answered_at = Some(self.wall);
        }
        // A legacy city's old system answering the menu's queue: forwarded, no agent of ours.
        c.record.outcome = match &party {
            Party::Trunk(_) if first => Outcome::Forwarded,
            _ => Outcome::Answered,
        };
        if let super::Stage::Menu { menu: m, .. } = &mut c.stage {
            if first {
                c.record.waited_ms = m
                    .queued_at
                    .map(|q| now.saturating_duration_since(q).as_millis() as u64);
            }
            m.agent_media = Some(agent_media);
        }
        c.connect(talking);
        self.out.record(&c.record);
        // Only an agent has a number (工号) to announce; a trunk's party is connected at once.
        let event = match party {
            Party::Trunk(_) => IvrEvent::PartyAnswered,
            Party::Agent(id) => IvrEvent::AgentAnswered(id),
        };
        self.ivr_event(now, call, event);
    }

    /// The agent hung up a menu call: the caller stays for the survey.
    pub(crate) fn menu_agent_hung_up(&mut self, now: Instant, call: CallRef) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(t) = c.take_talking() else { return };
        c.record.hung_up_by = Some(HungUpBy::Agent);
        if let Some(m) = c.menu_mut() {
            m.media.disconnect_agent();
            m.agent_media = None;
        }
        self.out.record(&c.record);
        self.end_party_call(now, &t.party, call);
        self.end_monitors_of(now, call);
        if let Some(c) = self.calls.get_mut(&call) {
            super::close_legs(&mut self.out, self.wall, &mut c.legs);
        }
        self.ivr_event(now, call, IvrEvent::AgentHungUp);
    }
}

/// Where a call's `nth` voicemail goes: `<recordings>/voicemail/YYYY/MM/DD/<call-id>.wav`,
/// `<call-id>-2.wav` for a second message (a file is never overwritten).
fn voicemail_path(
    root: &std::path::Path,
    wall: chrono::DateTime<chrono::Utc>,
    id: &hotline_record::CallId,
    nth: u32,
) -> std::path::PathBuf {
    let rel = hotline_record::recording_file(id, wall);
    let path = root.join(hotline_record::VOICEMAIL_DIR).join(rel);
    if nth > 1 {
        path.with_file_name(format!("{id}-{nth}.wav"))
    } else {
        path
    }
}

/// Whether the caller presented a number to call back.
pub(super) fn number_known(record: &hotline_record::CallRecord) -> bool {
    record
        .caller_normalized
        .as_deref()
        .is_some_and(|n| !n.is_empty())
}

pub(super) fn callback_of(
    wall: chrono::DateTime<chrono::Utc>,
    record: &hotline_record::CallRecord,
    kind: CallbackKind,
    number: Option<String>,
    voicemail_path: Option<std::path::PathBuf>,
) -> Callback {
    Callback {
        id: 0,
        call_id: record.call_id.clone(),
        caller: record.caller_raw.clone(),
        number: number.or_else(|| record.caller_normalized.clone()),
        region: record.region.clone(),
        created_at: wall,
        kind,
        voicemail_path,
        state: "open".to_string(),
    }
}

/// Nodes kept in a call's menu path at most: a caller going round the menu all day must not
/// grow their record without end.
const MAX_PATH_NODES: usize = 24;

/// Adds `node` to the menu path, unless the caller is still in it (a retry) or the path is
/// full (then it ends in `…`).
fn record_path(path: &mut Option<String>, node: &str) {
    const SEP: &str = " > ";
    let p = path.get_or_insert_with(String::new);
    if p.ends_with('…') || p.rsplit(SEP).next() == Some(node) {
        return;
    }
    if !p.is_empty() {
        p.push_str(SEP);
    }
    if p.matches(SEP).count() + 1 >= MAX_PATH_NODES {
        p.push('…');
    } else {
        p.push_str(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_menu_path_keeps_each_visit_once_and_stops_growing() {
        let mut path = None;
        for node in ["welcome", "main", "main", "invoice", "main"] {
            record_path(&mut path, node);
        }
        assert_eq!(path.as_deref(), Some("welcome > main > invoice > main"));
        for i in 0..100 {
            record_path(&mut path, if i % 2 == 0 { "a" } else { "b" });
        }
        let p = path.unwrap_or_default();
        assert!(p.ends_with(" > …"), "{p}");
        assert_eq!(p.matches(" > ").count(), MAX_PATH_NODES - 1);
    }
}
