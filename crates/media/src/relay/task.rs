//! The caller↔agent bridge the switch used before the voice menu: now the call's media task
//! ([`crate::call`]) with the agent connected from the start and nothing to play.

use std::sync::Arc;

use hotline_record::Recording;
use tokio::sync::mpsc;

use super::port::MediaPort;
use super::{BridgeStats, Leg, PeerMedia};
use crate::call::{self, CallMediaHandle};
use crate::prompt::PromptSet;

/// Starts bridges; see [`Bridge::start`].
#[derive(Debug)]
pub struct Bridge;

/// The call's handle on its running bridge. Dropping it stops the bridge like
/// [`BridgeHandle::stop`] does, without waiting.
#[derive(Debug)]
pub struct BridgeHandle {
    media: CallMediaHandle,
}

impl Bridge {
    /// Spawns the task relaying between `caller` and `agent`, recording into `recording`
    /// (left = caller, right = agent) from now on. Must run inside a tokio runtime.
    pub fn start(
        call_id: String,
        caller: (MediaPort, PeerMedia),
        agent: (MediaPort, PeerMedia),
        recording: Option<Recording>,
    ) -> BridgeHandle {
        Bridge::start_with_prompts(
            call_id,
            caller,
            agent,
            recording,
            Arc::new(PromptSet::empty()),
        )
    }

    /// As [`Bridge::start`], with prompts the call may play later (music on hold while a
    /// transfer rings the next party).
    pub fn start_with_prompts(
        call_id: String,
        caller: (MediaPort, PeerMedia),
        agent: (MediaPort, PeerMedia),
        recording: Option<Recording>,
        prompts: Arc<PromptSet>,
    ) -> BridgeHandle {
        // Keys are not detected while an agent is connected and only music is played
        // between agents, so there are no events to hear.
        let (events, _) = mpsc::unbounded_channel();
        let media = call::spawn(call_id, caller, Some(agent), recording, prompts, events);
        BridgeHandle { media }
    }
}

impl BridgeHandle {
    /// The call's media task behind the bridge (supervision, transfer).
    pub fn media(&self) -> &CallMediaHandle {
        &self.media
    }

    /// The call's media task behind the bridge, to stop it elsewhere.
    pub fn into_media(self) -> CallMediaHandle {
        self.media
    }

    /// Applies a re-INVITE (hold, new address, new codec) to one leg.
    pub fn update(&self, leg: Leg, peer: PeerMedia) {
        self.media.update(leg, peer);
    }

    /// Stops relaying, finishes the recording at the bridge's duration, and returns the
    /// counts.
    pub async fn stop(self) -> BridgeStats {
        self.media.stop().await
    }
}
