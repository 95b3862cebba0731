//! Writes a realistic year of a province into a call store, for the report benchmarks
//! (`benches/reports.sh`): 18 cities' callers over busy mornings and afternoons, some done
//! in the menu, the rest queued for their city's 16 agents, who work shifts with a break,
//! lunch and training some days; a caller is answered by the first agent free, or gives up
//! when their patience runs out first (about one in seven); every call's agent states and
//! legs, a few transfers, the callback list of those who gave up and the agents' calls out
//! that reach most of them. Deterministic (a fixed seed), so runs compare.
//!
//! `cargo run --release -p hotline-record --example fill_year -- FILE [CALLS]`

use std::path::PathBuf;

use chrono::DateTime;
use chrono::{Duration, TimeZone, Utc};
use hotline_record::{
    AbandonStage, AgentStateChange, CallId, CallLeg, CallRecord, CallStore, Callback, CallbackKind,
    Direction, HungUpBy, Outcome, SeatState,
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

/// Shift hours an agent takes calls in, as (from, to) in minutes after midnight.
const WINDOWS: [(i64, i64); 3] = [
    (8 * 60 + 30, 10 * 60 + 15),
    (10 * 60 + 30, 12 * 60),
    (14 * 60, 18 * 60),
];
/// After-call work.
const WRAP_UP: i64 = 20;

/// One day of one city: its agents' free-from times, its records.
struct Day {
    midnight: DateTime<Utc>,
    free: Vec<DateTime<Utc>>,
    calls: Vec<CallRecord>,
    states: Vec<AgentStateChange>,
    legs: Vec<CallLeg>,
    callbacks: Vec<Callback>,
    reached: Vec<String>,
}

impl Day {
    /// The earliest time from `t` at which `slot` is free and inside a window that still
    /// holds `needed` more, if any today.
    fn start_for(&self, slot: usize, t: DateTime<Utc>, needed: Duration) -> Option<DateTime<Utc>> {
        let from = t.max(*self.free.get(slot)?);
        WINDOWS.iter().find_map(|(a, b)| {
            let (a, b) = (
                self.midnight + Duration::minutes(*a),
                self.midnight + Duration::minutes(*b),
            );
            let s = from.max(a);
            (s + needed <= b).then_some(s)
        })
    }

    fn state(
        &mut self,
        at: DateTime<Utc>,
        agent: &str,
        from: SeatState,
        to: SeatState,
        reason: Option<&str>,
    ) {
        let slot = agent.parse::<usize>().unwrap_or(20_000) - 20_000;
        let region = CITIES
            .get(slot / AGENTS_PER_CITY as usize)
            .map(|c| (*c).into());
        self.states.push(AgentStateChange {
            region,
            at,
            agent: agent.into(),
            from: Some(from),
            to,
            reason: reason.map(Into::into),
        });
    }
}

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
    // About one call in twelve is an agent's call out to a caller who gave up.
    let per_day = calls * 12 / 13 / 365 + 1;
    let agents = (AGENTS_PER_CITY * 18) as usize;
    let (mut written, mut states, mut serial) = (0u64, 0u64, 0u32);
    for day in 0..365i64 {
        let midnight = year + Duration::days(day);
        let mut d = Day {
            midnight,
            free: vec![midnight; agents],
            calls: Vec::new(),
            states: Vec::new(),
            legs: Vec::new(),
            callbacks: Vec::new(),
            reached: Vec::new(),
        };
        let t = |h: i64, m: i64| midnight + Duration::hours(h) + Duration::minutes(m);
        for agent in 0..agents {
            let id = format!("{}", 20_000 + agent);
            // Logged in 08:30, a break, lunch 12:00–14:00, training some days, out at 18:00.
            let mut shift = vec![
                (t(8, 30), SeatState::Available, None),
                (t(10, 15), SeatState::NotReady, Some("break")),
                (t(10, 30), SeatState::Available, None),
                (t(12, 0), SeatState::NotReady, Some("lunch")),
                (t(14, 0), SeatState::Available, None),
                (t(18, 0), SeatState::LoggedOut, None),
            ];
            if rng.chance(0.1) {
                shift.insert(4, (t(13, 0), SeatState::NotReady, Some("training")));
            }
            let mut from = SeatState::LoggedOut;
            for (at, to, reason) in shift {
                d.state(at, &id, from, to, reason);
                from = to;
            }
        }
        // Busy mornings and afternoons: 9–11 and 14–16 carry most calls; taken in order of
        // arrival, as the switch takes them.
        let mut offers: Vec<DateTime<Utc>> = (0..per_day)
            .map(|_| {
                let hour = [8, 9, 9, 9, 10, 10, 10, 11, 14, 14, 15, 15, 15, 16, 16, 17]
                    [rng.below(16) as usize];
                let minute = if hour == 8 {
                    30 + rng.below(30)
                } else {
                    rng.below(60)
                };
                t(hour, minute as i64) + Duration::seconds(rng.below(60) as i64)
            })
            .collect();
        offers.sort();
        for offered in offers {
            if written + d.calls.len() as u64 >= calls {
                break;
            }
            serial += 1;
            let city = rng.below(18) as usize;
            let number = format!("1390{:03}{:04}", 370 + city, rng.below(10_000));
            let mut c = CallRecord::new(CallId::generate(offered, serial), number.clone(), offered);
            c.caller_normalized = Some(number.clone());
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
            c.direction = Direction::Inbound;
            c.skill = Some(SKILLS[rng.below(4) as usize].to_string());
            c.ivr_node = Some(format!("menu-{}", c.skill.as_deref().unwrap_or("main")));
            let queued = offered + Duration::seconds(15 + rng.below(30) as i64);
            if rng.chance(0.12) {
                // Done with the recorded answers of the menu.
                c.ivr_node = Some("main".into());
                c.outcome = Outcome::Ivr;
                c.ended_at = Some(queued + Duration::seconds(rng.below(90) as i64));
                c.hung_up_by = Some(HungUpBy::Caller);
                d.calls.push(c);
                continue;
            }
            c.queued_at = Some(queued);
            let patience = Duration::milliseconds((rng.exp(150.0) * 1000.0) as i64);
            let ring = Duration::milliseconds(2_000 + rng.below(12_000) as i64);
            let talk = Duration::seconds(60 + rng.exp(150.0) as i64);
            let needed = ring + talk + Duration::seconds(WRAP_UP);
            let first = city * AGENTS_PER_CITY as usize;
            let pick = (first..first + AGENTS_PER_CITY as usize)
                .filter_map(|slot| d.start_for(slot, queued, needed).map(|s| (s, slot)))
                .min();
            match pick {
                Some((start, slot)) if start + ring <= queued + patience => {
                    let agent = format!("{}", 20_000 + slot);
                    let answered = start + ring;
                    let ended = answered + talk;
                    d.free[slot] = ended + Duration::seconds(WRAP_UP);
                    c.outcome = Outcome::Answered;
                    c.agent = Some(agent.clone());
                    c.answered_at = Some(answered);
                    c.ended_at = Some(ended);
                    c.waited_ms = Some((answered - queued).num_milliseconds() as u64);
                    c.ring_ms = Some(ring.num_milliseconds() as u64);
                    c.agent_announced = true;
                    c.overflowed = answered - queued > Duration::seconds(120) && rng.chance(0.3);
                    c.hung_up_by = Some(if rng.chance(0.5) {
                        HungUpBy::Caller
                    } else {
                        HungUpBy::Agent
                    });
                    c.survey_score = rng.chance(0.4).then(|| 1 + rng.below(3) as u8);
                    c.recording_path =
                        Some(format!("/var/lib/hotline/recordings/{}.wav", c.call_id).into());
                    d.state(
                        start,
                        &agent,
                        SeatState::Available,
                        SeatState::Ringing,
                        None,
                    );
                    d.state(
                        answered,
                        &agent,
                        SeatState::Ringing,
                        SeatState::Talking,
                        None,
                    );
                    d.state(ended, &agent, SeatState::Talking, SeatState::WrapUp, None);
                    d.state(
                        d.free[slot],
                        &agent,
                        SeatState::WrapUp,
                        SeatState::Available,
                        None,
                    );
                    let leg = |seq: u32, party: String, kind: &str, from, to| CallLeg {
                        call_id: c.call_id.clone(),
                        seq,
                        party,
                        kind: kind.into(),
                        started_at: from,
                        ended_at: Some(to),
                    };
                    if rng.chance(0.03) {
                        // Handed on to a colleague (转办) halfway through.
                        let half = answered + talk / 2;
                        let other = 20_000 + first + rng.below(AGENTS_PER_CITY) as usize;
                        d.legs.push(leg(1, agent, "agent", answered, half));
                        d.legs
                            .push(leg(2, other.to_string(), "transfer", half, ended));
                    } else {
                        d.legs.push(leg(1, agent, "agent", answered, ended));
                    }
                }
                _ => {
                    // Gave up: mostly in the queue, sometimes while a phone rang.
                    let gave_up = queued + patience;
                    c.outcome = Outcome::Abandoned;
                    c.abandoned_in = Some(if rng.chance(0.85) {
                        AbandonStage::Queue
                    } else {
                        AbandonStage::Ringing
                    });
                    c.ended_at = Some(gave_up);
                    c.waited_ms = Some(patience.num_milliseconds() as u64);
                    c.hung_up_by = Some(HungUpBy::Caller);
                    d.callbacks.push(Callback {
                        id: 0,
                        call_id: c.call_id.clone(),
                        caller: number.clone(),
                        number: Some(number.clone()),
                        region: c.region.clone(),
                        created_at: gave_up,
                        kind: CallbackKind::Abandoned,
                        voicemail_path: None,
                        state: "open".into(),
                    });
                    if rng.chance(0.8) {
                        // Called back by one of the city's agents after 18:00's last calls.
                        serial += 1;
                        let agent = 20_000 + first + rng.below(AGENTS_PER_CITY) as usize;
                        let at = t(17, 50) + Duration::seconds(rng.below(600) as i64);
                        let mut out =
                            CallRecord::new(CallId::generate(at, serial), agent.to_string(), at);
                        out.direction = Direction::Outbound;
                        out.dialled = Some(number.clone());
                        out.region = c.region.clone();
                        out.agent = Some(agent.to_string());
                        out.outcome = Outcome::Answered;
                        out.answered_at = Some(at + Duration::seconds(8));
                        out.ended_at = Some(at + Duration::seconds(90 + rng.below(120) as i64));
                        out.hung_up_by = Some(HungUpBy::Agent);
                        out.recording_path =
                            Some(format!("/var/lib/hotline/recordings/{}.wav", out.call_id).into());
                        d.calls.push(out);
                        d.reached.push(number.clone());
                    }
                }
            }
            d.calls.push(c);
        }
        d.calls
            .sort_by(|a, b| (a.offered_at, &a.call_id).cmp(&(b.offered_at, &b.call_id)));
        d.states.sort_by_key(|s| s.at);
        for c in &d.calls {
            store.save(c)?;
        }
        for s in &d.states {
            store.save_agent_state(s)?;
        }
        for l in &d.legs {
            store.save_leg(l)?;
        }
        for cb in &d.callbacks {
            store.save_callback(cb)?;
        }
        for n in &d.reached {
            store.called_back(n)?;
        }
        written += d.calls.len() as u64;
        states += d.states.len() as u64;
        if written >= calls {
            break;
        }
    }
    store.sync()?;
    println!(
        "{written} calls and {states} agent-state rows written to {}",
        path.display()
    );
    Ok(())
}
