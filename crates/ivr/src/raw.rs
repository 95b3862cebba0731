//! The `[ivr]` section of a dialplan as written, with spans for the checks' messages.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `[ivr]`: where calls start, and the nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIvr {
    /// First node in service hours.
    pub start: Spanned<String>,
    /// First node outside service hours.
    pub closed: Spanned<String>,
    /// Directory of the prompt WAVs, relative to the dialplan file (default `../prompts`).
    pub prompts: Option<String>,
    /// Ask for a satisfaction score when the agent hangs up first (default true).
    pub survey: Option<bool>,
    /// Music on hold prompt (default `moh`).
    pub hold_music: Option<Spanned<String>>,
    /// Seconds between position announcements while queued (default 30; 0 = never).
    pub position_every_secs: Option<u64>,
    /// The nodes.
    #[serde(default, rename = "node")]
    pub nodes: Vec<RawNode>,
}

/// One `[[ivr.node]]`. Which keys are present decides what it does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Its name.
    pub id: Spanned<String>,
    /// Prompts played on entering.
    #[serde(default)]
    pub play: Vec<Spanned<String>>,
    /// Play / voicemail / callback nodes: where to go next.
    pub next: Option<Spanned<String>>,
    /// Play nodes: a key cuts the prompts off (default false: they play to the end).
    pub barge_in: Option<Spanned<bool>>,
    /// Menu nodes: key → node.
    pub keys: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// Menu: seconds to wait for a key (default 5).
    pub timeout_secs: Option<u64>,
    /// Menu: replays after a missing or invalid key (default 3).
    pub retries: Option<u32>,
    /// Menu: prompt played after an invalid key.
    pub invalid: Option<Spanned<String>>,
    /// Menu: where to go when the retries are used up.
    pub fallback: Option<Spanned<String>>,
    /// Queue nodes: the skill asked for (`""` for any).
    pub queue: Option<Spanned<String>>,
    /// Queue nodes: a fixed region instead of the caller's.
    pub region: Option<Spanned<String>>,
    /// Queue nodes: seconds between position announcements for this queue (0 = never);
    /// default `[ivr] position_every_secs`.
    pub position_every_secs: Option<u64>,
    /// Queue nodes: the longest wait before the caller is offered `next` instead (voicemail
    /// or a callback): nobody ever hears a busy tone.
    pub max_wait_secs: Option<Spanned<u64>>,
    /// Voicemail nodes: the longest message in seconds.
    pub voicemail_secs: Option<Spanned<u64>>,
    /// Callback nodes: `callback = true`.
    pub callback: Option<Spanned<bool>>,
    /// Hang-up nodes: `hangup = true`.
    pub hangup: Option<Spanned<bool>>,
}
