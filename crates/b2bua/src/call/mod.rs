//! The back-to-back user agent: each call is a caller leg and (once an agent is rung) an
//! agent leg, two separate dialogs joined by a media bridge. These are the core's handlers
//! for everything that happens to a call: [`offer`] from the INVITE until an agent answers,
//! [`talk`] from the answer to the hang-up, [`menu`] for calls the voice menu answers,
//! [`stage`] for where a call is in its life and [`end`] for its one way out.

mod attended;
mod calls_out;
mod direct;
mod end;
pub(crate) mod menu;
mod monitor_cli;
mod offer;
mod phone;
mod prompt_take;
mod ringing_phone;
pub(crate) mod session;
mod stage;
mod talk;
mod transfer;

use std::net::SocketAddr;
use std::time::Instant;

use crate::notes::{note, About};
use chrono::{DateTime, Utc};
use hotline_acd::CallRef;
use hotline_record::{CallId, CallRecord};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::SipMessage;
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;

use crate::core::{Core, Side};
use crate::media::{PeerMedia, SdpVersion};
use crate::media_ctl::{MediaHandle, MediaIds, PortGrant, RecordingAt, Recordings, StartMedia};
use crate::out::Outputs;

pub(crate) use calls_out::CallsOut;
pub(crate) use end::Ending;
pub(crate) use phone::static_seat_sent;
pub(crate) use prompt_take::Takes;
pub(crate) use ringing_phone::RingingPhone;
pub(crate) use stage::Stage;

/// One call from the switch's side.
pub(crate) struct Call {
    pub id: CallId,
    pub caller: CallerLeg,
    /// The phones ringing for this call: one, or several with ring-all.
    pub ringing: Vec<AgentLeg>,
    /// Where the call is in its life: one state, so no two can be half true at once.
    pub stage: Stage,
    pub record: CallRecord,
    /// When the legs were last asked (OPTIONS) whether they are still there.
    pub alive_checked: Instant,
    /// When its INVITE arrived: a call lasting longer than `max_call` is ended.
    pub since: Instant,
    /// Whose call it is: a taxpayer's the ACD distributes, or one the switch rings directly
    /// (a legacy city's forward, a call an agent placed).
    pub kind: CallKind,
    /// Everyone who answered, in order (the `legs` table).
    pub legs: Vec<hotline_record::CallLeg>,
    /// Who rang the phone ringing for it, which decides what a no-answer means.
    pub rung: Rung,
    /// When a leg of this call last failed before it could even be sent (no media port):
    /// a legacy city's trunk is not rung again in the same step, or a fallback to it would
    /// recurse without end.
    pub failed_at_once: Option<std::time::Instant>,
}

/// Who rang a call's ringing phone, for as long as it rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rung {
    /// The ACD offered it (its ring-no-answer), or it is a direct call's own far party (a
    /// call out, a consultation, a legacy forward: a no-answer ends the call).
    AsUsual,
    /// The switch rings a blind transfer's party, or a legacy city's trunk for a queue the
    /// menu chose: a no-answer sends the caller back to the queue.
    ForTransfer,
}

/// Whose call it is, for as long as it lasts: it decides who distributes it, who is called
/// back and whose ACD state follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// A taxpayer's call to 12366, distributed by the ACD (through the menu, if any).
    Taxpayer,
    /// A taxpayer's call forwarded to their city's old system (割接), rung directly.
    Legacy,
    /// Placed by this agent from their phone (a call out, a consultation), rung directly;
    /// the agent's ACD state follows it.
    PlacedBy(String),
}

impl CallKind {
    /// Whether the switch rings it directly rather than through the ACD.
    pub fn is_direct(&self) -> bool {
        !matches!(self, CallKind::Taxpayer)
    }

    /// The agent who placed it, for a call out or a consultation.
    pub fn placed_by(&self) -> Option<&str> {
        match self {
            CallKind::PlacedBy(agent) => Some(agent),
            _ => None,
        }
    }
}

/// The taxpayer's leg: their INVITE, our answer, and our media port for them.
pub(crate) struct CallerLeg {
    pub tx: TxId,
    pub invite: Request,
    pub peer: Peer,
    pub tag: String,
    pub sip_call_id: String,
    pub number: String,
    pub media: Option<PortGrant>,
    pub local_media: SocketAddr,
    pub answer_sdp: String,
    pub peer_media: PeerMedia,
    pub sdp: SdpVersion,
}

/// Who a far leg reaches: an agent's phone, or a carrier trunk (a call out, a transfer
/// outside, a legacy city's old system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Party {
    /// An agent, by number (工号).
    Agent(String),
    /// A trunk, by its name in the dialplan.
    Trunk(String),
}

impl Party {
    /// The agent's number; `None` for a trunk.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Party::Agent(id) => Some(id),
            Party::Trunk(_) => None,
        }
    }

    /// Whether this is agent `id`.
    pub fn is_agent(&self, id: &str) -> bool {
        self.agent() == Some(id)
    }
}

impl std::fmt::Display for Party {
    /// The agent's number, or `trunk:NAME`, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Agent(id) => f.write_str(id),
            Party::Trunk(name) => write!(f, "trunk:{name}"),
        }
    }
}

/// An agent's phone (or a trunk) being rung for this call.
pub(crate) struct AgentLeg {
    /// Who is rung.
    pub party: Party,
    /// Our INVITE (kept to CANCEL it, to build its dialog, to resend it with credentials).
    pub invite: Request,
    pub tx: TxId,
    pub peer: Peer,
    pub sip_call_id: String,
    /// Our media port for this phone; taken by the bridge when early media starts.
    pub media: Option<PortGrant>,
    pub local_media: SocketAddr,
    pub sdp: SdpVersion,
    /// A provisional response arrived: a CANCEL may be sent (RFC 3261 9.1).
    pub provisional: bool,
    /// When it started ringing: legs the ACD does not time are given up by the switch.
    pub since: Instant,
    /// Set once a trunk's digest challenge has been answered (only once per leg).
    pub auth_tried: bool,
}

/// The caller's side of a call without a menu between a transfer's two parties: their
/// media and recording go on, their dialog keeps its CSeq.
pub(crate) struct Parked {
    pub bridge: MediaHandle,
    pub caller_dialog: Dialog,
}

/// A connected call: both dialogs and the bridge between them.
pub(crate) struct Talking {
    /// Who the caller talks to.
    pub party: Party,
    pub agent_tx: TxId,
    pub agent_peer: Peer,
    pub agent_local_media: SocketAddr,
    pub agent_sip_call_id: String,
    pub agent_sdp: SdpVersion,
    /// The CSeq of the agent leg's INVITE, repeated by the ACK of its 2xx.
    pub agent_invite_seq: u32,
    pub caller_dialog: Dialog,
    pub agent_dialog: Dialog,
    /// The caller↔agent relay of a call without a menu (a menu call relays in its CallMedia).
    pub bridge: Option<MediaHandle>,
}

/// An agent INVITE we withdrew: a late 200 must still be ACKed and hung up, and a CANCEL
/// waits for the first provisional response.
pub(crate) struct OrphanLeg {
    pub invite: Request,
    pub peer: Peer,
    pub cancel_pending: bool,
    pub since: Instant,
}

impl Call {
    /// Whom this call's notes are about: the call, by its id.
    pub fn about(&self) -> About {
        About::Call(self.id.clone())
    }

    /// Whether its ringing leg was rung by the switch itself (a call placed from a phone, a
    /// legacy forward, a transfer's next party) rather than offered by the ACD.
    pub fn rings_directly(&self) -> bool {
        self.kind.is_direct() || self.rung == Rung::ForTransfer
    }

    /// The ringing leg of this INVITE transaction.
    pub fn leg_mut(&mut self, tx: TxId) -> Option<&mut AgentLeg> {
        self.ringing.iter_mut().find(|l| l.tx == tx)
    }

    /// Takes the ringing leg of this INVITE transaction out of the call.
    pub fn take_leg(&mut self, tx: TxId) -> Option<AgentLeg> {
        let i = self.ringing.iter().position(|l| l.tx == tx)?;
        Some(self.ringing.swap_remove(i))
    }
}

/// Starts the recorded bridge between the caller's port and the far party's.
pub(crate) fn start_recorded_bridge(
    ctx: Bridging<'_>,
    call: CallRef,
    c: &mut Call,
    caller: (PortGrant, PeerMedia),
    far: (PortGrant, PeerMedia),
) -> MediaHandle {
    let start = StartMedia {
        call,
        call_id: c.id.as_str().to_string(),
        recording: open_recording(ctx.notes, ctx.recordings, ctx.wall, c),
        caller,
        agent: Some(far),
        prompts: std::sync::Arc::clone(ctx.prompts),
        events: false,
    };
    MediaHandle::start(ctx.media_ids.fresh(), ctx.out, start)
}

/// What starting a bridge takes from the core, borrowed beside a call.
pub(crate) struct Bridging<'a> {
    pub recordings: &'a Recordings,
    pub media_ids: &'a mut MediaIds,
    pub out: &'a Outputs,
    pub notes: &'a crate::notes::Notes,
    pub wall: DateTime<Utc>,
    pub prompts: &'a std::sync::Arc<hotline_media::prompt::PromptSet>,
}

/// The call's recording from now, noted in the record; `None` while the disk is below its
/// floor (the record says `recording_failed`): the call goes on unrecorded rather than not
/// at all.
pub(crate) fn open_recording(
    notes: &crate::notes::Notes,
    recordings: &Recordings,
    wall: DateTime<Utc>,
    c: &mut Call,
) -> Option<RecordingAt> {
    let recording = if recordings.disk_low {
        // The recorder warned once when the disk went low; one line per call is enough.
        note!(
            notes,
            Info,
            c.about(),
            "call not recorded: the recordings' disk is below its floor"
        );
        None
    } else {
        Some(RecordingAt {
            call: c.id.clone(),
            at: wall,
        })
    };
    c.record.recording_path = recording.as_ref().map(|r| recordings.path_of(r));
    // Sticky: a call unrecorded for a stretch stays marked even if a later stretch is.
    c.record.recording_failed |= recording.is_none();
    recording
}

/// The legs still open (one at most: whoever is on the call) end at `wall`.
pub(crate) fn close_legs(
    out: &mut Outputs,
    wall: DateTime<Utc>,
    legs: &mut [hotline_record::CallLeg],
) {
    for leg in legs.iter_mut().filter(|l| l.ended_at.is_none()) {
        leg.ended_at = Some(wall);
        out.leg(leg);
    }
}

/// Our side of a caller's offer: the port we answer from and what we answer.
pub(crate) struct CallerMedia {
    pub port: PortGrant,
    pub local: SocketAddr,
    pub answer_sdp: String,
    pub peer: PeerMedia,
    pub sdp: SdpVersion,
}

impl Core {
    /// What SDP may point the switch's RTP at.
    /// Whom a note about `call` is about: the call, or the switch once the call is gone.
    pub(crate) fn about_call(&self, call: CallRef) -> About {
        self.calls.get(&call).map_or(About::Switch, Call::about)
    }

    pub(crate) fn media_policy(&self) -> crate::media::MediaPolicy {
        crate::media::MediaPolicy {
            media_ip: self.media_ip,
            sip: self.local.sip,
            notes: self.notes.clone(),
        }
    }

    /// Binds a port and prepares our answer to the INVITE's offer; `Err` is the status to
    /// refuse it with (488 no usable audio, 503 no port).
    pub(crate) fn caller_media(&mut self, req: &Request, from: Peer) -> Result<CallerMedia, u16> {
        let offer = crate::media::parse_sdp(&req.body).ok_or(488u16)?;
        let Some(port) = self.ports.take(&self.out) else {
            note!(
                self.notes,
                Warn,
                About::Switch,
                "no media port for a new call"
            );
            return Err(503);
        };
        let local = port.local_addr();
        let sdp = SdpVersion::new(self.local.draw());
        let (answer_sdp, peer) =
            crate::media::answer(&offer, local, sdp, from.addr.ip(), &self.media_policy())
                .ok_or(488u16)?;
        Ok(CallerMedia {
            port,
            local,
            answer_sdp,
            peer,
            sdp,
        })
    }

    /// Registers a new call (a taxpayer's, or one placed from a phone) by its caller leg.
    pub(crate) fn add_call(
        &mut self,
        now: Instant,
        caller: (TxId, Request, Peer),
        number: String,
        media: CallerMedia,
        record: CallRecord,
    ) -> CallRef {
        let (tx, invite, peer) = caller;
        let sip_call_id = invite.call_id().unwrap_or_default().to_string();
        let call = self.alloc_call();
        self.calls.insert(
            call,
            Call {
                id: record.call_id.clone(),
                caller: CallerLeg {
                    tx,
                    invite,
                    peer,
                    tag: self.local.token(),
                    sip_call_id,
                    number,
                    media: Some(media.port),
                    local_media: media.local,
                    answer_sdp: media.answer_sdp,
                    peer_media: media.peer,
                    sdp: media.sdp,
                },
                ringing: Vec::new(),
                stage: Stage::Waiting { early: None },
                record,
                alive_checked: now,
                since: now,
                kind: CallKind::Taxpayer,
                legs: Vec::new(),
                rung: Rung::AsUsual,
                failed_at_once: None,
            },
        );
        call
    }

    /// Someone answered the call: a new row in its `legs`.
    pub(crate) fn leg_joined(&mut self, call: CallRef, party: &Party) {
        let to_legacy = match party {
            Party::Trunk(name) => self.is_legacy_trunk(name),
            Party::Agent(_) => false,
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let inbound = c.record.direction == hotline_record::Direction::Inbound;
        let (party, kind) = match party {
            Party::Trunk(trunk) if to_legacy && inbound => (trunk.clone(), "legacy"),
            Party::Trunk(trunk) => (trunk.clone(), "trunk"),
            Party::Agent(id) if c.legs.is_empty() => (id.clone(), "agent"),
            Party::Agent(id) => (id.clone(), "transfer"),
        };
        let leg = hotline_record::CallLeg {
            call_id: c.id.clone(),
            seq: c.legs.len() as u32 + 1,
            party,
            kind: kind.to_string(),
            started_at: self.wall,
            ended_at: None,
        };
        self.out.leg(&leg);
        c.legs.push(leg);
    }

    /// Whether trunk `name` leads to a legacy city's old system.
    pub(crate) fn is_legacy_trunk(&self, name: &str) -> bool {
        self.plan
            .dialplan
            .regions
            .iter()
            .any(|r| r.legacy_trunk() == Some(name))
    }

    /// The legs still open end now.
    pub(crate) fn close_legs(&mut self, legs: &mut [hotline_record::CallLeg]) {
        close_legs(&mut self.out, self.wall, legs);
    }

    /// Queues an upsert of the call's row as it is now.
    pub(crate) fn save(&mut self, record: &CallRecord) {
        self.out.record(record);
    }

    /// Takes a call out; its legs and dialogs leave the index at the reindex after this
    /// step, its keep-alives and re-INVITEs now.
    pub(crate) fn remove_call(&mut self, call: CallRef) -> Option<Call> {
        let c = self.calls.remove(&call)?;
        self.owners.forget(call);
        Some(c)
    }

    /// Whether an in-dialog request carries the tags of the call's dialog on that side
    /// (RFC 3261 12.2.2): a stale or forged request must not end somebody's call.
    pub(crate) fn tags_match(&self, call: CallRef, side: Side, req: &Request) -> bool {
        let Some(c) = self.calls.get(&call) else {
            return false;
        };
        let to_tag = req.party_to().and_then(|t| t.tag().map(str::to_string));
        let from_tag = req.party_from().and_then(|f| f.tag().map(str::to_string));
        match side {
            Side::Caller => {
                let their = c
                    .caller
                    .invite
                    .party_from()
                    .and_then(|f| f.tag().map(str::to_string));
                to_tag.as_deref() == Some(c.caller.tag.as_str()) && from_tag == their
            }
            Side::Agent => match c.talking() {
                Some(t) => {
                    to_tag.as_deref() == Some(t.agent_dialog.local_tag.as_str())
                        && from_tag.as_deref() == Some(t.agent_dialog.remote_tag.as_str())
                }
                None => false,
            },
        }
    }
}
