//! What the fuzzer chooses to happen around the switch, one step at a time, and how the
//! harness plays each step on the machine.

use super::*;

/// One thing that happens around the switch.
#[derive(Debug, Arbitrary)]
pub(super) enum Step {
    /// A phone starts a transaction outside any dialog the harness knows.
    Request {
        peer: u8,
        verb: Verb,
        call: u8,
        branch: u8,
        seq: u8,
        dest: Dest,
        extra: Extra,
        body: Body,
    },
    /// A phone sends a request in one of its dialogs with the switch.
    InDialog {
        dialog: u8,
        verb: Verb,
        extra: Extra,
        body: Body,
    },
    /// A phone answers one of the requests the switch sent.
    Answer {
        request: u8,
        status: u16,
        body: Body,
    },
    /// Bytes from a phone, as they are.
    Raw {
        peer: u8,
        data: Vec<u8>,
    },
    /// A caller's media task reports a key, a prompt heard, or a voicemail closed.
    Key {
        call: u8,
        key: u8,
    },
    Heard {
        call: u8,
        stale: bool,
    },
    VoicemailDone {
        call: u8,
        samples: u16,
    },
    RecordingNotOpened {
        call: u8,
    },
    /// Time passes.
    Wait {
        ms: u16,
    },
    LongWait {
        secs: u8,
    },
    /// An operator's command.
    Agent {
        agent: u8,
        action: u8,
    },
    Monitor {
        agent: u8,
        mode: u8,
    },
    StopMonitoring,
    Hours(u8),
    RecordPrompt {
        phone: u8,
    },
    /// A reload brought this plan (with or without the menu), or failed.
    Reload {
        menu: Option<bool>,
    },
    /// The edge can (not) bind media ports any more.
    Ports {
        grant: bool,
    },
    Disk {
        low: bool,
    },
    Shutdown,
}

impl World {
    pub(super) fn step(&mut self, step: Step) {
        match step {
            Step::Request {
                peer,
                verb,
                call,
                branch,
                seq,
                dest,
                extra,
                body,
            } => {
                let (user, port) = PEERS[usize::from(peer) % PEERS.len()];
                let addr = SocketAddr::new([127, 0, 0, 1].into(), port);
                let (uri, to) = match verb {
                    Verb::Register => (format!("sip:{SWITCH}"), format!("<sip:{user}@{SWITCH}>")),
                    _ => {
                        let uri = format!("sip:{}@{SWITCH}", dest.number());
                        (uri.clone(), format!("<{uri}>"))
                    }
                };
                let challenge = self
                    .challenges
                    .iter()
                    .find(|(a, _)| *a == addr)
                    .map(|c| &c.1);
                let extra =
                    peers::extra_line(&extra, &self.dialogs, challenge, verb.token(), &uri, user);
                let parts = Parts {
                    peer: addr,
                    user,
                    from: format!("<sip:{user}@{addr}>;tag=t{}-{}", port, call % 2),
                    to,
                    uri,
                    call_id: format!("call-{}@fuzz", call % 4),
                    seq: u32::from(seq % 8),
                    branch: format!("z9hG4bK-{}", branch % 8),
                    extra,
                    body: &body,
                };
                self.deliver(addr, peers::request(verb, &parts));
            }
            Step::InDialog {
                dialog,
                verb,
                extra,
                body,
            } => {
                let Some(d) = peers::pick(&self.dialogs, dialog).cloned() else {
                    return;
                };
                let extra = peers::extra_line(
                    &extra,
                    &self.dialogs,
                    None,
                    verb.token(),
                    &d.remote_target,
                    &d.user,
                );
                let seq = match verb {
                    Verb::Ack | Verb::Cancel => d.seq,
                    _ => d.seq + 1,
                };
                if let Some(m) = self
                    .dialogs
                    .iter_mut()
                    .find(|o| o.call_id == d.call_id && o.local == d.local)
                {
                    m.seq = seq;
                }
                let parts = Parts {
                    peer: d.peer,
                    user: &d.user,
                    uri: d.remote_target.clone(),
                    from: d.local.clone(),
                    to: d.remote.clone(),
                    call_id: d.call_id.clone(),
                    seq,
                    branch: format!("z9hG4bK-d{seq}-{}", verb.token()),
                    extra,
                    body: &body,
                };
                self.deliver(d.peer, peers::request(verb, &parts));
            }
            Step::Answer {
                request,
                status,
                body,
            } => {
                let Some((to, req)) = peers::pick(&self.sent, request).cloned() else {
                    return;
                };
                let status = 100 + status % 600;
                let user = user_at(to);
                let tag = format!("p{}", to.port());
                if status > 100
                    && status < 300
                    && req.method == hotline_sip::message::Method::Invite
                {
                    if let Some(d) = Dialog::of_request(to, user, &req, &tag) {
                        self.remember(d);
                    }
                }
                self.deliver(to, peers::response(&req, status, &tag, to, user, &body));
            }
            Step::Raw { peer, data } => {
                let port = PEERS[usize::from(peer) % PEERS.len()].1;
                self.deliver(SocketAddr::new([127, 0, 0, 1].into(), port), data);
            }
            Step::Key { call, key } => {
                if let Some(c) = self.call(call) {
                    let key = char::from(b"0123456789*#ABCD"[usize::from(key % 16)]);
                    self.input(Input::Media(c, MediaEvent::Digit(key)));
                }
            }
            Step::Heard { call, stale } => {
                if let Some(&(_, c, play)) = peers::pick(&self.media_calls, call) {
                    let play = if stale { play.wrapping_sub(1) } else { play };
                    self.input(Input::Media(c, MediaEvent::PlayFinished(play)));
                }
            }
            Step::VoicemailDone { call, samples } => {
                if let Some(c) = self.call(call) {
                    let path = "/recordings/voicemail.wav".into();
                    let event = MediaEvent::VoicemailDone {
                        path,
                        samples: u64::from(samples),
                    };
                    self.input(Input::Media(c, event));
                }
            }
            Step::RecordingNotOpened { call } => {
                if let Some(c) = self.call(call) {
                    self.input(Input::RecordingNotOpened(c));
                }
            }
            Step::Wait { ms } => self.advance(Duration::from_millis(u64::from(ms))),
            Step::LongWait { secs } => self.advance(Duration::from_secs(u64::from(secs) * 10)),
            Step::Agent { agent, action } => {
                let action = match action % 5 {
                    0 => AgentAction::Login,
                    1 => AgentAction::Logout,
                    2 => AgentAction::Ready,
                    3 => AgentAction::Pause {
                        reason: NotReady::Lunch,
                    },
                    _ => AgentAction::Pause {
                        reason: NotReady::Break,
                    },
                };
                self.command(Command::Agent {
                    id: agent_id(agent),
                    action,
                });
            }
            Step::Monitor { agent, mode } => {
                let mode = [
                    MonitorMode::Listen,
                    MonitorMode::Whisper,
                    MonitorMode::Barge,
                ][usize::from(mode % 3)];
                self.command(Command::Monitor {
                    supervisor: "1950".into(),
                    agent: agent_id(agent),
                    mode,
                });
            }
            Step::StopMonitoring => self.command(Command::StopMonitoring {
                supervisor: "1950".into(),
            }),
            Step::Hours(h) => {
                let hours = [HoursSetting::Auto, HoursSetting::Open, HoursSetting::Closed]
                    [usize::from(h % 3)];
                self.command(Command::Hours { hours });
            }
            Step::RecordPrompt { phone } => {
                self.command(Command::RecordPrompt {
                    prompt: "welcome".into(),
                    phone: agent_id(phone),
                });
            }
            Step::Reload { menu } => {
                let loaded = match menu {
                    Some(m) => Ok(plans()[usize::from(m)].clone()),
                    None => Err("fuzz.toml: refused".to_string()),
                };
                self.input(Input::PlanLoaded {
                    reply: ReplyTo(2),
                    loaded,
                });
            }
            Step::Ports { grant } => self.grant_ports = grant,
            Step::Disk { low } => self.input(Input::Disk { low }),
            Step::Shutdown => self.input(Input::Shutdown),
        }
    }

    fn command(&mut self, command: Command) {
        self.input(Input::Command {
            reply: ReplyTo(1),
            command,
            os_user: None,
        });
    }
}
