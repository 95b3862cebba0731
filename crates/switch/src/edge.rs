//! The edge around the core: one tokio task that feeds it what arrives (SIP, media events,
//! the operator's commands, the stop signal) with the time, sleeps until its next timer,
//! and carries out what it asks (datagrams to the sockets, writes to the call store,
//! replies to the control socket).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hotline_acd::CallRef;
use hotline_record::{CallStore, StoreWrite};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::command::Reply;
use crate::edge_media::MediaTasks;
use crate::plan::Plan;
use crate::transport::{Inbound, SipTransport};
use hotline_b2bua::{Core, Input, Output, ReplyTo};

/// How long the media tasks of the ended calls get to close their recordings.
const SETTLE: Duration = Duration::from_millis(500);
/// The live board is published at most this often (and this long after a change at most).
const BOARD_EVERY: Duration = Duration::from_millis(200);

/// Where an operator's answer goes.
pub type ReplySender = oneshot::Sender<Result<Reply, String>>;

/// Requests from the operator's tools (over the control socket) and the signal handler.
#[derive(Debug)]
pub enum Control {
    /// An operator's command.
    Command {
        /// What to do.
        command: crate::command::Command,
        /// The OS user who sent it (SO_PEERCRED), for the monitoring audit.
        os_user: Option<String>,
        /// Where the answer goes.
        reply: ReplySender,
    },
    /// `hotline reload`: the plan loaded off the signalling task (or why it was refused),
    /// for the core to swap in.
    Reload {
        /// The new plan, or the refusal.
        loaded: Result<Arc<Plan>, String>,
        /// Where the answer goes.
        reply: ReplySender,
    },
    /// Stop (SIGTERM, SIGINT): take no new calls, end the calls in progress, close every
    /// record and recording, then return from [`serve`](crate::serve).
    Shutdown,
}

/// What the edge carries the core's outputs to.
pub(crate) struct Edge {
    core: Core,
    transport: SipTransport,
    store: CallStore,
    media: MediaTasks,
    /// Commands waiting for their answer, by the number the core will answer to.
    replies: HashMap<ReplyTo, ReplySender>,
    next_reply: u64,
    /// What the core was last told of the recordings' disk.
    disk_low: bool,
    /// Where the live board goes (the web console), and when it is next due.
    board: Option<(
        tokio::sync::watch::Sender<Arc<hotline_b2bua::Board>>,
        Option<Instant>,
    )>,
    /// Where voice prompts recorded from phones are installed, if anywhere.
    takes: Option<crate::prompt_takes::PromptTakes>,
    /// How late the media runtime runs, and what the core was last told of it.
    media_lag: Option<(crate::media_lag::MediaLag, Duration)>,
}

impl Edge {
    /// The edge around `core`, carrying its outputs to these.
    pub fn new(core: Core, transport: SipTransport, store: CallStore, media: MediaTasks) -> Edge {
        Edge {
            core,
            transport,
            store,
            media,
            replies: HashMap::new(),
            next_reply: 0,
            disk_low: false,
            board: None,
            takes: None,
            media_lag: None,
        }
    }

    /// Tells the core how late the media runtime runs, as `probe` measures it.
    pub fn with_media_lag(mut self, probe: crate::media_lag::MediaLag) -> Edge {
        self.media_lag = Some((probe, Duration::ZERO));
        self
    }

    /// Installs voice prompts recorded from phones with `takes`.
    pub fn with_prompt_takes(mut self, takes: crate::prompt_takes::PromptTakes) -> Edge {
        self.takes = Some(takes);
        self
    }

    /// Publishes the core's live board to `tx` after changes, at most every [`BOARD_EVERY`].
    pub fn with_board(mut self, tx: tokio::sync::watch::Sender<Arc<hotline_b2bua::Board>>) -> Edge {
        self.board = Some((tx, None));
        self
    }

    /// When the board is next due, if a step happened since it was last published.
    fn board_due(&self) -> Option<Instant> {
        self.board.as_ref().and_then(|(_, due)| *due)
    }

    /// After a step: the board is due soon; when due, it is published if it changed.
    fn board_step(&mut self, now: Instant) {
        let Some((tx, due)) = &mut self.board else {
            return;
        };
        match *due {
            None => *due = Some(now + BOARD_EVERY),
            Some(at) if now >= at => {
                *due = None;
                let board = self.core.board();
                tx.send_if_modified(|old| {
                    let changed = **old != board;
                    if changed {
                        *old = Arc::new(board);
                    }
                    changed
                });
            }
            Some(_) => {}
        }
    }

    /// Runs until the inbound channel closes or a stop has finished.
    pub async fn run(
        mut self,
        mut dialog: mpsc::Receiver<Inbound>,
        mut new: mpsc::Receiver<Inbound>,
        mut control: mpsc::Receiver<Control>,
        mut media: mpsc::Receiver<(CallRef, hotline_media::call::MediaEvent)>,
    ) {
        // The first round binds the media ports the first calls will need.
        self.core.handle_timeout(Instant::now(), Utc::now());
        self.carry_out_all();
        loop {
            let deadline = match self.board_due() {
                Some(board) => self.core.poll_timeout().min(board),
                None => self.core.poll_timeout(),
            };
            // In this order when several are ready: what keeps calls up (dialogs, the
            // operator, media events) before new work, so a flood delays only new calls.
            let input = tokio::select! {
                biased;
                msg = dialog.recv() => match msg {
                    Some(m) => Some(Input::Sip(m)),
                    None => break,
                },
                Some(c) = control.recv() => Some(self.input_of(c)),
                Some((call, ev)) = media.recv() => Some(Input::Media(call, ev)),
                Some(m) = new.recv() => Some(Input::Sip(m)),
                _ = tokio::time::sleep_until(deadline.into()) => None,
            };
            let disk_low = self.media.recorder().disk_low();
            if disk_low != self.disk_low {
                self.disk_low = disk_low;
                let disk = Input::Disk { low: disk_low };
                self.core.handle(Instant::now(), Utc::now(), disk);
            }
            if let Some((probe, told)) = &mut self.media_lag {
                let late = probe.now();
                if late != *told {
                    *told = late;
                    self.core
                        .handle(Instant::now(), Utc::now(), Input::MediaLag(late));
                }
            }
            if let Some(input) = input {
                self.core.handle(Instant::now(), Utc::now(), input);
            }
            let now = Instant::now();
            if now >= self.core.poll_timeout() {
                self.core.handle_timeout(now, Utc::now());
            }
            self.carry_out_all();
            self.board_step(now);
            if self.core.is_stopped(now) {
                self.finish_shutdown().await;
                return;
            }
        }
    }

    /// The core's input for an operator's request; its reply channel is kept here.
    fn input_of(&mut self, c: Control) -> Input {
        let mut keep = |reply: ReplySender| {
            self.next_reply += 1;
            let to = ReplyTo(self.next_reply);
            self.replies.insert(to, reply);
            to
        };
        match c {
            Control::Command {
                command,
                os_user,
                reply,
            } => Input::Command {
                reply: keep(reply),
                command,
                os_user,
            },
            Control::Reload { loaded, reply } => Input::PlanLoaded {
                reply: keep(reply),
                loaded,
            },
            Control::Shutdown => Input::Shutdown,
        }
    }

    /// Does what the core asked, feeding back what that brings (ports bound, recordings
    /// that could not be opened) until it asks nothing more.
    fn carry_out_all(&mut self) {
        loop {
            let (want, not_opened) = self.carry_out();
            if want == 0 && not_opened.is_empty() {
                return;
            }
            for call in not_opened {
                let input = Input::RecordingNotOpened(call);
                self.core.handle(Instant::now(), Utc::now(), input);
            }
            if want > 0 {
                let granted = self.media.bind(want);
                let input = Input::Ports {
                    granted,
                    asked: want,
                };
                self.core.handle(Instant::now(), Utc::now(), input);
            }
        }
    }

    /// Does what the core asked, in order; returns the ports it wants bound and the calls
    /// whose recording could not be opened.
    fn carry_out(&mut self) -> (usize, Vec<CallRef>) {
        let (mut want, mut not_opened) = (0, Vec::new());
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Media(id, command) => not_opened.extend(self.media.command(id, command)),
                Output::ReleasePort(port) => self.media.release(port),
                Output::WantPorts(n) => want += n,
                Output::Transmit(t) => self.transport.send(t),
                Output::Store(w) => {
                    let what = w.what();
                    if let Err(e) = self.store.write(w) {
                        warn!(error = %e, "{what} not queued");
                    }
                }
                Output::FinalRecord { media, record } => {
                    let Some(media) = media.and_then(|id| self.media.take(id)) else {
                        // No media to wait for: written in order with the rest.
                        if let Err(e) = self.store.write(StoreWrite::Record(record)) {
                            warn!(error = %e, "final call record not queued");
                        }
                        continue;
                    };
                    let (store, totals) = (self.store.clone(), self.media.totals());
                    self.media.runtime().spawn(async move {
                        totals.add(&media.stop().await);
                        if let Err(e) = store.write(StoreWrite::Record(record)) {
                            warn!(error = %e, "final call record not queued");
                        }
                    });
                }
                Output::Reply(to, result) => {
                    if let Some(reply) = self.replies.remove(&to) {
                        let _ = reply.send(result);
                    }
                }
                Output::Note(note) => crate::notes::log(note),
                Output::PromptRecorded {
                    prompt,
                    path,
                    samples: _,
                    phone,
                    asked_by,
                } => match &self.takes {
                    Some(takes) => takes.install(crate::prompt_takes::Take {
                        prompt,
                        path,
                        phone,
                        asked_by,
                    }),
                    None => {
                        warn!(%prompt, path = %path.display(), "recorded prompt left as it is: nothing installs takes")
                    }
                },
            }
        }
        (want, not_opened)
    }

    /// The last step of a stop: the ended calls' media close their recordings, then every
    /// record still open is closed (after every save queued before) and the files flushed.
    async fn finish_shutdown(&mut self) {
        self.carry_out_all();
        tokio::time::sleep(SETTLE).await;
        let (store, recorder) = (self.store.clone(), self.media.recorder().clone());
        let flushed = tokio::task::spawn_blocking(move || {
            let recorded = recorder.sync();
            (store.finish_unfinished(), recorded)
        })
        .await;
        match flushed {
            Ok((Ok(closed), Ok(()))) => info!(closed, "stopped: every call record is closed"),
            Ok((records, recordings)) => {
                warn!(
                    ?records,
                    ?recordings,
                    "stopped, but the files could not be flushed"
                )
            }
            Err(e) => warn!(error = %e, "stopped, but the files could not be flushed"),
        }
    }
}
