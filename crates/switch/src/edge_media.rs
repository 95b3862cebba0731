//! The media half of the edge: binds the ports the core asks for, runs its media tasks
//! (hotline-media's tokio tasks) by number, and passes their events back to the core. The
//! tasks and their sockets live on the media runtime (the process's multi-thread one), not
//! on the core's own thread, which only tells them what to do.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hotline_acd::CallRef;
use hotline_media::call::{CallMedia, CallMediaHandle, MediaEvent};
use hotline_media::{Bridge, MediaPort};
use hotline_record::Recorder;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use hotline_b2bua::{MediaCommand, MediaId, PortId};

/// Media events from every call, tagged with the call, on their way to the core.
pub(crate) type MediaEvents = mpsc::Sender<(CallRef, MediaEvent)>;

/// The media tasks and ports the core knows by number.
pub(crate) struct MediaTasks {
    tasks: HashMap<MediaId, CallMediaHandle>,
    ports: HashMap<PortId, MediaPort>,
    next_port: u64,
    media_ip: IpAddr,
    recorder: Recorder,
    events: MediaEvents,
    totals: Arc<hotline_media::totals::MediaTotals>,
    /// Where media tasks run and media sockets are registered.
    runtime: tokio::runtime::Handle,
}

impl MediaTasks {
    /// No tasks yet; ports are bound on `media_ip`, recordings written by `recorder`, each
    /// stopped call's media added to `totals`.
    pub fn new(
        media_ip: IpAddr,
        recorder: Recorder,
        events: MediaEvents,
        totals: Arc<hotline_media::totals::MediaTotals>,
        runtime: tokio::runtime::Handle,
    ) -> MediaTasks {
        MediaTasks {
            totals,
            runtime,
            tasks: HashMap::new(),
            ports: HashMap::new(),
            next_port: 0,
            media_ip,
            recorder,
            events,
        }
    }

    /// Binds up to `n` ports; fewer if the OS refuses (logged).
    pub fn bind(&mut self, n: usize) -> Vec<(PortId, SocketAddr)> {
        let _media_runtime = self.runtime.enter();
        let mut granted = Vec::with_capacity(n);
        for _ in 0..n {
            match MediaPort::bind(self.media_ip) {
                Ok(port) => {
                    self.next_port += 1;
                    let id = PortId(self.next_port);
                    granted.push((id, port.local_addr()));
                    self.ports.insert(id, port);
                }
                Err(e) => {
                    debug!(error = %e, "no media port could be bound");
                    break;
                }
            }
        }
        granted
    }

    /// Closes a port the core gave back.
    pub fn release(&mut self, port: PortId) {
        self.ports.remove(&port);
    }

    /// Every stopped call's media, summed (`/metrics`).
    pub fn totals(&self) -> Arc<hotline_media::totals::MediaTotals> {
        Arc::clone(&self.totals)
    }

    /// The media runtime, for work that must outlive the core's thread.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// The recorder, for the final flush.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Takes task `id` out, to stop it and wait for its recording to close.
    pub fn take(&mut self, id: MediaId) -> Option<CallMediaHandle> {
        self.tasks.remove(&id)
    }

    /// Carries out one command; returns the call whose recording could not be opened.
    pub fn command(&mut self, id: MediaId, command: MediaCommand) -> Option<CallRef> {
        let _media_runtime = self.runtime.enter();
        if let MediaCommand::Start {
            call,
            call_id,
            caller,
            agent,
            recording,
            prompts,
            events,
        } = command
        {
            let caller_port = self.port(caller.0)?;
            let mut not_opened = None;
            let recording = recording.and_then(|r| match self.recorder.open(&r.call, r.at) {
                Ok(rec) => Some(rec),
                Err(e) => {
                    warn!(call = %r.call, error = %e, "recording could not be opened");
                    not_opened = Some(call);
                    None
                }
            });
            let handle = match agent {
                Some((port, peer)) => {
                    let agent_port = self.port(port)?;
                    Bridge::start_with_prompts(
                        call_id,
                        (caller_port, caller.1),
                        (agent_port, peer),
                        recording,
                        prompts,
                    )
                    .into_media()
                }
                None => {
                    let (handle, rx) =
                        CallMedia::start(call_id, (caller_port, caller.1), recording, prompts);
                    if events {
                        forward(&self.events, call, rx);
                    }
                    handle
                }
            };
            self.tasks.insert(id, handle);
            return not_opened;
        }
        if let MediaCommand::Stop = command {
            if let Some(task) = self.tasks.remove(&id) {
                let totals = Arc::clone(&self.totals);
                tokio::spawn(async move { totals.add(&task.stop().await) });
            }
            return None;
        }
        let with_port = |ports: &mut HashMap<PortId, MediaPort>, p: PortId| ports.remove(&p);
        let task = self.tasks.get(&id)?;
        match command {
            MediaCommand::Play {
                id,
                prompts,
                looped,
            } => task.play(id, prompts, looped),
            MediaCommand::StopPlaying => task.stop_playing(),
            MediaCommand::ConnectAgent(p, peer) => {
                if let Some(port) = with_port(&mut self.ports, p) {
                    task.connect_agent((port, peer));
                }
            }
            MediaCommand::DisconnectAgent => task.disconnect_agent(),
            MediaCommand::Supervise(p, peer, mode) => {
                if let Some(port) = with_port(&mut self.ports, p) {
                    task.supervise((port, peer), mode);
                }
            }
            MediaCommand::SetMonitor(mode) => task.set_monitor(mode),
            MediaCommand::EndSupervision => task.end_supervision(),
            MediaCommand::UpdateSupervisor(peer) => task.update_supervisor(peer),
            MediaCommand::StartVoicemail(path, max) => task.start_voicemail(path, max),
            MediaCommand::StopVoicemail => task.stop_voicemail(),
            MediaCommand::Update(leg, peer) => task.update(leg, peer),
            MediaCommand::Start { .. } | MediaCommand::Stop => {}
        }
        None
    }

    fn port(&mut self, id: PortId) -> Option<MediaPort> {
        let port = self.ports.remove(&id);
        if port.is_none() {
            warn!(port = id.0, "a media port the core used was never granted");
        }
        port
    }
}

/// Passes a media task's events to the core, tagged with `call`, until either side ends.
fn forward(core: &MediaEvents, call: CallRef, mut events: mpsc::UnboundedReceiver<MediaEvent>) {
    let core = core.clone();
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if core.send((call, ev)).await.is_err() {
                break;
            }
        }
    });
}
