//! Validating a menu: every reference resolves, every prompt exists, every node can be
//! reached, and no loop runs without waiting for the caller.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use crate::menu::{FixedPrompts, Menu, Node, NodeId, NodeKind, PromptId};
use crate::raw::{RawIvr, RawNode};

/// A problem in the `[ivr]` section, at a byte range of the dialplan text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuProblem {
    /// Where in the file.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
}

/// The prompts the machine itself needs, by their fixed names.
pub const FIXED_PROMPTS: [&str; 16] = [
    "digit-0",
    "digit-1",
    "digit-2",
    "digit-3",
    "digit-4",
    "digit-5",
    "digit-6",
    "digit-7",
    "digit-8",
    "digit-9",
    "agent-before",
    "agent-after",
    "callback-readback",
    "callback-confirm",
    "position-before",
    "position-after",
];

struct Checker<'a> {
    problems: Vec<MenuProblem>,
    prompt_exists: &'a dyn Fn(&str) -> bool,
    region_exists: &'a dyn Fn(&str) -> bool,
}

impl Checker<'_> {
    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(MenuProblem {
            span,
            message: message.into(),
        });
    }

    fn prompt(&mut self, p: &Spanned<String>) -> PromptId {
        if !(self.prompt_exists)(p.get_ref()) {
            self.report(
                p.span(),
                format!("prompt {:?} not found in the prompt directory", p.get_ref()),
            );
        }
        PromptId::new(p.get_ref())
    }

    fn node_ref(&mut self, ids: &HashSet<String>, r: &Spanned<String>) -> NodeId {
        if !ids.contains(r.get_ref()) {
            self.report(r.span(), format!("no node {:?}", r.get_ref()));
        }
        NodeId(Arc::from(r.get_ref().as_str()))
    }
}

/// Checks `[ivr]`; `prompt_exists` says whether `prompts/<name>.wav` is there and usable,
/// `region_exists` whether a region id is in the dialplan. `whole` is the span of `[ivr]`.
pub fn check_menu(
    raw: &RawIvr,
    whole: Range<usize>,
    prompt_exists: &dyn Fn(&str) -> bool,
    region_exists: &dyn Fn(&str) -> bool,
) -> Result<Menu, Vec<MenuProblem>> {
    let mut c = Checker {
        problems: Vec::new(),
        prompt_exists,
        region_exists,
    };
    let mut ids = HashSet::new();
    for n in &raw.nodes {
        if !ids.insert(n.id.get_ref().clone()) {
            c.report(
                n.id.span(),
                format!("node {:?} is defined twice", n.id.get_ref()),
            );
        }
    }
    let start = c.node_ref(&ids, &raw.start);
    let closed = c.node_ref(&ids, &raw.closed);
    let mut nodes = HashMap::new();
    for n in &raw.nodes {
        if let Some(node) = node(&mut c, &ids, n) {
            nodes.insert(node.id.clone(), node);
        }
    }
    for name in FIXED_PROMPTS {
        if !(c.prompt_exists)(name) {
            c.report(
                whole.clone(),
                format!("prompt {name:?} (used to read numbers out) not found"),
            );
        }
    }
    let hold_music = raw
        .hold_music
        .as_ref()
        .map(|p| c.prompt(p))
        .or_else(|| (c.prompt_exists)("moh").then(|| PromptId::new("moh")));
    let survey = raw.survey.unwrap_or(true);
    for name in ["survey", "survey-thanks"].iter().filter(|_| survey) {
        if !(c.prompt_exists)(name) {
            c.report(
                whole.clone(),
                format!("prompt {name:?} (the satisfaction survey) not found"),
            );
        }
    }
    let menu = Menu {
        start,
        closed,
        nodes,
        fixed: FixedPrompts {
            digits: std::array::from_fn(|d| PromptId::new(&format!("digit-{d}"))),
            agent_before: PromptId::new("agent-before"),
            agent_after: PromptId::new("agent-after"),
            readback: PromptId::new("callback-readback"),
            confirm: PromptId::new("callback-confirm"),
            survey: survey.then(|| PromptId::new("survey")),
            survey_thanks: survey.then(|| PromptId::new("survey-thanks")),
            position: Some((
                PromptId::new("position-before"),
                PromptId::new("position-after"),
            )),
            hold_music,
        },
        position_every: Duration::from_secs(raw.position_every_secs.unwrap_or(30)),
    };
    if c.problems.is_empty() {
        reachability(&mut c, raw, &menu);
        loops_without_input(&mut c, raw, &menu);
    }
    if c.problems.is_empty() {
        Ok(menu)
    } else {
        Err(c.problems)
    }
}

fn node(c: &mut Checker, ids: &HashSet<String>, n: &RawNode) -> Option<Node> {
    let kinds = [
        n.keys.is_some(),
        n.queue.is_some(),
        n.voicemail_secs.is_some(),
        n.callback.is_some(),
        n.hangup.is_some(),
    ];
    let count = kinds.iter().filter(|k| **k).count();
    if count > 1 {
        c.report(
            n.id.span(),
            "a node is one of: keys, queue, voicemail_secs, callback, hangup",
        );
        return None;
    }
    let prompts: Vec<PromptId> = n.play.iter().map(|p| c.prompt(p)).collect();
    let id = NodeId(Arc::from(n.id.get_ref().as_str()));
    let need_next = |c: &mut Checker| match &n.next {
        Some(r) => Some(c.node_ref(ids, r)),
        None => {
            c.report(
                n.id.span(),
                format!("node {:?} needs `next`", n.id.get_ref()),
            );
            None
        }
    };
    let kind = if let Some(keys) = &n.keys {
        let mut map = BTreeMap::new();
        for (k, target) in keys.get_ref() {
            let mut chars = k.chars();
            match (chars.next(), chars.next()) {
                (Some(ch), None) if ch.is_ascii_digit() || ch == '*' || ch == '#' => {
                    map.insert(ch, c.node_ref(ids, target));
                }
                _ => c.report(
                    target.span(),
                    format!("key {k:?} is not one of 0-9, * or #"),
                ),
            }
        }
        let fallback = match &n.fallback {
            Some(f) => c.node_ref(ids, f),
            None => {
                c.report(
                    keys.span(),
                    "a menu needs a `fallback` node for when no valid key comes",
                );
                return None;
            }
        };
        NodeKind::Menu {
            keys: map,
            timeout: Duration::from_secs(n.timeout_secs.unwrap_or(5).max(1)),
            retries: n.retries.unwrap_or(3),
            invalid: n.invalid.as_ref().map(|p| c.prompt(p)),
            fallback,
        }
    } else if let Some(skill) = &n.queue {
        if let Some(r) = &n.region {
            if !(c.region_exists)(r.get_ref()) {
                c.report(r.span(), format!("no region {:?}", r.get_ref()));
            }
        }
        let max_wait = match &n.max_wait_secs {
            Some(secs) => {
                if *secs.get_ref() == 0 || *secs.get_ref() > 86_400 {
                    c.report(secs.span(), "max_wait_secs must be 1 to 86400");
                }
                Some((Duration::from_secs(*secs.get_ref()), need_next(c)?))
            }
            None => {
                if let Some(next) = &n.next {
                    c.report(
                        next.span(),
                        "a queue goes to `next` only after `max_wait_secs`: add it",
                    );
                }
                None
            }
        };
        NodeKind::Queue {
            skill: (!skill.get_ref().is_empty()).then(|| skill.get_ref().clone()),
            region: n.region.as_ref().map(|r| r.get_ref().clone()),
            position_every: n.position_every_secs.map(Duration::from_secs),
            max_wait,
        }
    } else if let Some(secs) = &n.voicemail_secs {
        if *secs.get_ref() == 0 || *secs.get_ref() > 600 {
            c.report(secs.span(), "voicemail_secs must be 1 to 600");
        }
        NodeKind::Voicemail {
            max: Duration::from_secs(*secs.get_ref()),
            next: need_next(c)?,
        }
    } else if n.callback.as_ref().is_some_and(|b| *b.get_ref()) {
        NodeKind::Callback {
            next: need_next(c)?,
        }
    } else if n.hangup.as_ref().is_some_and(|b| *b.get_ref()) {
        NodeKind::Hangup
    } else {
        NodeKind::Play {
            next: need_next(c)?,
            barge_in: n.barge_in.as_ref().is_some_and(|b| *b.get_ref()),
        }
    };
    if let (Some(b), false) = (&n.barge_in, matches!(kind, NodeKind::Play { .. })) {
        c.report(
            b.span(),
            "`barge_in` is for play nodes (a menu always takes a key during its prompts)",
        );
    }
    Some(Node { id, prompts, kind })
}

fn successors(kind: &NodeKind) -> Vec<&NodeId> {
    match kind {
        NodeKind::Play { next, .. }
        | NodeKind::Voicemail { next, .. }
        | NodeKind::Callback { next } => vec![next],
        NodeKind::Menu { keys, fallback, .. } => keys.values().chain(Some(fallback)).collect(),
        NodeKind::Queue { max_wait, .. } => max_wait.iter().map(|(_, next)| next).collect(),
        NodeKind::Hangup => vec![],
    }
}

fn reachability(c: &mut Checker, raw: &RawIvr, menu: &Menu) {
    let mut seen: HashSet<&NodeId> = HashSet::new();
    let mut stack = vec![&menu.start, &menu.closed];
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(n) = menu.nodes.get(id) {
            stack.extend(successors(&n.kind));
        }
    }
    for n in &raw.nodes {
        if !seen.iter().any(|s| s.0.as_ref() == n.id.get_ref()) {
            c.report(
                n.id.span(),
                format!(
                    "node {:?} cannot be reached from `start` or `closed`",
                    n.id.get_ref()
                ),
            );
        }
    }
}

/// A cycle through play-only nodes would loop forever without the caller doing anything.
fn loops_without_input(c: &mut Checker, raw: &RawIvr, menu: &Menu) {
    for n in &raw.nodes {
        let mut at = NodeId(Arc::from(n.id.get_ref().as_str()));
        let mut steps = 0;
        while let Some(NodeKind::Play { next, .. }) = menu.nodes.get(&at).map(|n| &n.kind) {
            at = next.clone();
            steps += 1;
            if at.0.as_ref() == n.id.get_ref() {
                c.report(
                    n.id.span(),
                    format!(
                        "node {:?} loops back to itself without waiting for a key",
                        n.id.get_ref()
                    ),
                );
                break;
            }
            if steps > menu.nodes.len() {
                break;
            }
        }
    }
}
