//! Writes a realistic year of a province into a call store, for the report benchmarks
//! (`benches/reports.sh`): 18 cities' callers over busy mornings and afternoons, about one
//! in seven giving up in the queue, agents on shifts with breaks, lunch and training, every
//! call's agent states. Deterministic (a fixed seed), so runs compare.
//!
//! `cargo run --release -p hotline-record --example fill_year -- FILE [CALLS]`

use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use hotline_record::{
    AbandonStage, AgentStateChange, CallId, CallRecord, CallStore, Direction, HungUpBy, Outcome,
};

/// A tiny deterministic generator (xorshift64*): the bench needs repeatable data, not
/// cryptographic randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// An exponential wait with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        let u = ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        -mean * u.ln()
    }
}

const CITIES: [&str; 18] = [
    "zhengzhou",
    "kaifeng",
    "luoyang",
    "pingdingshan",
    "anyang",
    "hebi",
    "xinxiang",
    "jiaozuo",
    "jiyuan",
    "puyang",
    "xuchang",
    "luohe",
    "sanmenxia",
    "nanyang",
    "shangqiu",
    "xinyang",
    "zhoukou",
    "zhumadian",
];
const SKILLS: [&str; 4] = ["filing", "invoices", "social-insurance", "complaints"];
const AGENTS_PER_CITY: u64 = 16;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: fill_year FILE [CALLS]")?);
    let calls: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let store = CallStore::open(&path)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let year = Utc
        .with_ymd_and_hms(2025, 12, 31, 16, 0, 0)
        .single()
        .ok_or("date")?;
    let per_day = calls / 365 + 1;
    let mut written = 0u64;
    let mut states = 0u64;
    for day in 0..365i64 {
        let midnight = year + Duration::days(day);
        let mut shifts: Vec<AgentStateChange> = Vec::new();
        // Each agent's free-from time, so their calls do not overlap.
        let mut free: Vec<chrono::DateTime<Utc>> = vec![midnight; (AGENTS_PER_CITY * 18) as usize];
        for agent in 0..(AGENTS_PER_CITY * 18) {
            let id = format!("{}", 20_000 + agent);
            // Logged in 08:30, a break, lunch 12:00–14:00, training some days, out at 18:00.
            let t = |h: i64, m: i64| midnight + Duration::hours(h) + Duration::minutes(m);
            let mut shift = vec![
                (t(8, 30), "available", None),
                (t(10, 15), "not-ready", Some("break")),
                (t(10, 30), "available", None),
                (t(12, 0), "not-ready", Some("lunch")),
                (t(14, 0), "available", None),
                (t(18, 0), "logged-out", None),
            ];
            if rng.chance(0.1) {
                shift.insert(4, (t(13, 0), "not-ready", Some("training")));
            }
            let mut from = "logged-out";
            for (at, to, reason) in shift {
                shifts.push(AgentStateChange {
                    at,
                    agent: id.clone(),
                    from: from.to_string(),
                    to: to.to_string(),
                    reason: reason.map(str::to_string),
                });
                from = to;
            }
        }
        // Generated hour by hour at random, stored as the switch stores them: as they arrive.
        let mut day_calls: Vec<CallRecord> = Vec::new();
        let mut day_states: Vec<AgentStateChange> = std::mem::take(&mut shifts);
        for n in 0..per_day {
            if written + day_calls.len() as u64 >= calls {
                break;
            }
            // Busy mornings and afternoons: 9–11 and 14–16 carry most calls.
            let hour = [8, 9, 9, 9, 10, 10, 10, 11, 14, 14, 15, 15, 15, 16, 16, 17]
                [rng.below(16) as usize];
            let offered =
                midnight + Duration::hours(hour) + Duration::seconds(rng.below(3600) as i64);
            let city = rng.below(18) as usize;
            let number = format!("1390{:03}{:04}", 370 + city, rng.below(10_000));
            let mut c = CallRecord::new(
                CallId::generate(offered, (day as u32) << 20 | n as u32),
                number.clone(),
                offered,
            );
            c.caller_normalized = Some(number);
            c.caller_kind = Some("mobile".into());
            c.region = Some(CITIES[city].to_string());
            c.origin = Some(
                if rng.chance(0.05) {
                    "out_of_province"
                } else {
                    "in_province"
                }
                .into(),
            );
            c.ivr_node = Some("main".into());
            let queued = offered + Duration::seconds(15 + rng.below(30) as i64);
            c.queued_at = Some(queued);
            c.skill = Some(SKILLS[rng.below(4) as usize].to_string());
            let wait = Duration::milliseconds((rng.exp(25.0) * 1000.0) as i64);
            if rng.chance(0.14) {
                c.outcome = Outcome::Abandoned;
                c.abandoned_in = Some(if rng.chance(0.8) {
                    AbandonStage::Queue
                } else {
                    AbandonStage::Ringing
                });
                c.ended_at = Some(queued + wait);
                c.hung_up_by = Some(HungUpBy::Caller);
            } else {
                let slot = (city as u64 * AGENTS_PER_CITY + rng.below(AGENTS_PER_CITY)) as usize;
                let agent = format!("{}", 20_000 + slot);
                let ring = Duration::milliseconds(2_000 + rng.below(12_000) as i64);
                let answered = (queued + wait).max(free[slot]) + ring;
                let talk = Duration::seconds(60 + rng.exp(120.0) as i64);
                let ended = answered + talk;
                free[slot] = ended + Duration::seconds(20);
                c.outcome = Outcome::Answered;
                c.agent = Some(agent.clone());
                c.answered_at = Some(answered);
                c.ended_at = Some(ended);
                c.ring_ms = Some(ring.num_milliseconds() as u64);
                c.agent_announced = true;
                c.hung_up_by = Some(if rng.chance(0.5) {
                    HungUpBy::Caller
                } else {
                    HungUpBy::Agent
                });
                c.survey_score = rng.chance(0.4).then(|| 1 + rng.below(3) as u8);
                c.recording_path =
                    Some(format!("/var/lib/hotline/recordings/{}.wav", c.call_id).into());
                for (at, from, to) in [
                    (answered - ring, "available", "ringing"),
                    (answered, "ringing", "talking"),
                    (ended, "talking", "wrap-up"),
                    (ended + Duration::seconds(20), "wrap-up", "available"),
                ] {
                    day_states.push(AgentStateChange {
                        at,
                        agent: agent.clone(),
                        from: from.into(),
                        to: to.into(),
                        reason: None,
                    });
                }
            }
            c.direction = Direction::Inbound;
            day_calls.push(c);
        }
        day_calls.sort_by_key(|c| c.offered_at);
        day_states.sort_by_key(|s| s.at);
        for c in &day_calls {
            store.save(c)?;
        }
        for s in &day_states {
            store.save_agent_state(s)?;
        }
        written += day_calls.len() as u64;
        states += day_states.len() as u64;
    }
    store.sync()?;
    println!(
        "{written} calls and {states} agent-state rows written to {}",
        path.display()
    );
    Ok(())
}
