//! The draw: a random sample of a period's reviewable calls, stratified by agent so that no
//! agent escapes and none is over-sampled, and reproducible from its seed.
//!
//! Each agent's calls are a stratum; an agent with `n` calls gets `ceil(rate × n)` of them
//! (at least one, never more than the rate rounded up), so the total is at least
//! `ceil(rate × calls)`. Within a stratum the calls are sorted by id and shuffled by a
//! SplitMix64 stream seeded from the draw's seed and the agent's id: the same seed gives the
//! same draw on any machine and any Rust version (no library RNG whose stream may change),
//! and an agent's sample depends on their own calls only.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use hotline_record::{CallId, CallRecord};

use super::{Rate, Scope};
use crate::period::Period;

/// The seed a draw follows from, stored with it (16 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(pub u64);

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a seed is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a seed (up to 16 hex digits)")]
pub struct SeedError(pub String);

impl FromStr for Seed {
    type Err = SeedError;
    fn from_str(s: &str) -> Result<Seed, SeedError> {
        let t = s.trim();
        if t.is_empty() || t.len() > 16 {
            return Err(SeedError(s.to_string()));
        }
        u64::from_str_radix(t, 16)
            .map(Seed)
            .map_err(|_| SeedError(s.to_string()))
    }
}

/// A call that may be drawn, with the agent (its stratum) and the office it counts for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// The call.
    pub call_id: CallId,
    /// The agent who answered it.
    pub agent: String,
    /// The office whose check it is in: the answering agent's region.
    pub office: String,
}

/// Whether a call can be spot-checked: answered by an agent, over, and with a recording.
/// Returns its agent.
pub fn reviewable(call: &CallRecord) -> Option<&str> {
    let agent = call.agent.as_deref().filter(|a| !a.is_empty())?;
    let answered = call.answered_at.is_some() && call.ended_at.is_some();
    (answered && call.recording_path.is_some()).then_some(agent)
}

/// The reviewable calls offered in `period` that are `scope`'s to check, by call id.
/// `office_of(call, agent)` names the office a call counts for (the agent's region in the
/// dialplan); the inspection department's scope takes every office's.
pub fn candidates(
    calls: &[CallRecord],
    period: &Period,
    scope: &Scope,
    office_of: &dyn Fn(&CallRecord, &str) -> String,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = calls
        .iter()
        .filter(|c| period.contains(c.offered_at))
        .filter_map(|c| {
            let agent = reviewable(c)?;
            let office = office_of(c, agent);
            let mine = match scope {
                Scope::Office(o) => *o == office,
                Scope::Central => true,
            };
            mine.then(|| Candidate {
                call_id: c.call_id.clone(),
                agent: agent.to_string(),
                office,
            })
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.call_id == b.call_id);
    out
}

/// One agent's share of a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum {
    /// The agent.
    pub agent: String,
    /// Their reviewable calls in the period.
    pub calls: usize,
    /// How many of them were drawn.
    pub sampled: usize,
}

/// A draw's outcome: the calls drawn (by call id) and each agent's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The calls drawn, ordered by call id.
    pub samples: Vec<Candidate>,
    /// Every agent with calls, by agent id.
    pub strata: Vec<Stratum>,
}

/// Draws at least `rate` of `candidates`, every agent's share rounded up, from `seed`.
/// The order of `candidates` does not matter; a call listed twice counts once.
pub fn draw(candidates: &[Candidate], rate: Rate, seed: Seed) -> Drawn {
    let mut by_agent: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        by_agent.entry(c.agent.as_str()).or_default().push(c);
    }
    let mut samples = Vec::new();
    let mut strata = Vec::new();
    for (agent, mut calls) in by_agent {
        calls.sort_by(|a, b| a.call_id.cmp(&b.call_id));
        calls.dedup_by(|a, b| a.call_id == b.call_id);
        let n = calls.len();
        let k = rate.of(n).min(n);
        let mut rng = SplitMix64::new(seed.0 ^ fnv1a(agent.as_bytes()));
        // A partial Fisher–Yates shuffle: the first k places get a uniform k-subset.
        for i in 0..k {
            let left = u64::try_from(n - i).unwrap_or(u64::MAX);
            let j = i + usize::try_from(rng.below(left)).unwrap_or(0);
            calls.swap(i, j);
        }
        calls.truncate(k);
        samples.extend(calls.into_iter().cloned());
        strata.push(Stratum {
            agent: agent.to_string(),
            calls: n,
            sampled: k,
        });
    }
    samples.sort_by(|a, b| a.call_id.cmp(&b.call_id));
    Drawn { samples, strata }
}

/// FNV-1a, to turn an agent's id into a stream offset: stable, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fully specified, good enough to shuffle.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` ≥ 1): draws past the last whole multiple of `bound`
    /// are thrown back, so no call is likelier than another.
    fn below(&mut self, bound: u64) -> u64 {
        let bound = bound.max(1);
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let x = self.next();
            if x < zone {
                return x % bound;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn call_id(n: u32) -> CallId {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
        CallId::generate(at + Duration::seconds(i64::from(n)), n)
    }

    /// `sizes[i]` calls for agent `10NN`.
    fn office(sizes: &[usize]) -> Vec<Candidate> {
        let mut n = 0;
        let mut out = Vec::new();
        for (a, size) in sizes.iter().enumerate() {
            for _ in 0..*size {
                n += 1;
                out.push(Candidate {
                    call_id: call_id(n),
                    agent: format!("10{:02}", a),
                    office: "luoyang".into(),
                });
            }
        }
        out
    }

    proptest! {
        #[test]
        fn every_agent_with_calls_is_sampled_and_the_rate_holds(
            sizes in proptest::collection::vec(1usize..40, 1..12),
            bp in 1u32..=10_000,
            seed in any::<u64>(),
        ) {
            let cands = office(&sizes);
            let rate = Rate::from_basis_points(bp).unwrap();
            let drawn = draw(&cands, rate, Seed(seed));
            prop_assert!(drawn.samples.len() >= rate.of(cands.len()));
            let agents: BTreeSet<&str> = drawn.samples.iter().map(|s| s.agent.as_str()).collect();
            prop_assert_eq!(agents.len(), sizes.len(), "no agent escapes");
            for s in &drawn.strata {
                // Nobody is over-sampled: each agent's share is their own calls' rate, rounded up.
                prop_assert_eq!(s.sampled, rate.of(s.calls));
                let theirs = drawn.samples.iter().filter(|c| c.agent == s.agent).count();
                prop_assert_eq!(theirs, s.sampled);
            }
            let ids: BTreeSet<&CallId> = drawn.samples.iter().map(|s| &s.call_id).collect();
            prop_assert_eq!(ids.len(), drawn.samples.len(), "no call drawn twice");
            prop_assert!(drawn.samples.iter().all(|s| cands.contains(s)));
        }

        #[test]
        fn the_same_seed_gives_the_same_draw_whatever_the_order_of_the_calls(
            sizes in proptest::collection::vec(1usize..30, 1..8),
            seed in any::<u64>(),
            rotate in 0usize..100,
        ) {
            let cands = office(&sizes);
            let mut shuffled = cands.clone();
            shuffled.reverse();
            let len = shuffled.len();
            shuffled.rotate_left(rotate % len);
            let first = draw(&cands, Rate::OFFICE_WEEKLY, Seed(seed));
            prop_assert_eq!(&first, &draw(&shuffled, Rate::OFFICE_WEEKLY, Seed(seed)));
            prop_assert_eq!(&first, &draw(&cands, Rate::OFFICE_WEEKLY, Seed(seed)));
        }

        #[test]
        fn seeds_round_trip_through_their_stored_text(seed in any::<u64>()) {
            prop_assert_eq!(Seed(seed).to_string().parse::<Seed>().unwrap(), Seed(seed));
        }
    }

    #[test]
    fn every_call_of_an_agent_is_as_likely_to_be_drawn() {
        let cands = office(&[10]);
        let mut hits = [0u32; 10];
        for seed in 0..20_000u64 {
            for s in draw(&cands, Rate::OFFICE_WEEKLY, Seed(seed)).samples {
                let i = cands.iter().position(|c| c == &s).unwrap();
                hits[i] += 1;
            }
        }
        // 2 of 10 drawn 20,000 times: 4,000 each expected; 5 σ is about 280.
        for h in hits {
            assert!((3_700..=4_300).contains(&h), "{hits:?}");
        }
    }

    #[test]
    fn a_different_seed_draws_differently() {
        let cands = office(&[20, 20, 20]);
        let a = draw(&cands, Rate::OFFICE_WEEKLY, Seed(1));
        let b = draw(&cands, Rate::OFFICE_WEEKLY, Seed(2));
        assert_ne!(a.samples, b.samples);
        assert_eq!(a.samples.len(), 12);
    }

    #[test]
    fn the_draw_stream_is_fixed_for_ever() {
        // Stored seeds must redraw the same calls after any upgrade: pin the stream.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next(), 0xe220_a839_7b1d_cdaf);
        let drawn = draw(&office(&[5]), Rate::OFFICE_WEEKLY, Seed(42));
        assert_eq!(drawn.samples.len(), 1);
    }

    #[test]
    fn only_answered_finished_recorded_calls_of_the_office_are_candidates() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
        let mut answered = CallRecord::new(call_id(1), "13903790000", at);
        answered.agent = Some("1003".into());
        answered.answered_at = Some(at + Duration::seconds(5));
        answered.ended_at = Some(at + Duration::seconds(65));
        answered.recording_path = Some("r.wav".into());
        let mut unrecorded = answered.clone();
        unrecorded.call_id = call_id(2);
        unrecorded.recording_path = None;
        unrecorded.recording_failed = true;
        let mut talking = answered.clone();
        talking.call_id = call_id(3);
        talking.ended_at = None;
        let mut centre = answered.clone();
        centre.call_id = call_id(4);
        centre.agent = Some("1900".into());
        let calls = [answered, unrecorded, talking, centre];
        let week = Period::week("2026-W48").unwrap();
        let office_of = |_: &CallRecord, agent: &str| {
            if agent == "1900" { "centre" } else { "luoyang" }.to_string()
        };
        let luoyang = candidates(&calls, &week, &Scope::Office("luoyang".into()), &office_of);
        assert_eq!(luoyang.len(), 1);
        assert_eq!(luoyang[0].call_id, call_id(1));
        assert_eq!(
            candidates(&calls, &week, &Scope::Central, &office_of).len(),
            2
        );
        let next = Period::week("2026-W49").unwrap();
        assert!(candidates(&calls, &next, &Scope::Central, &office_of).is_empty());
    }
}
