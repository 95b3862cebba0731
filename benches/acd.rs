//! The ACD's cost per call as the number of agents grows: with `n` agents in one queue, half
//! of them talking, one iteration is one call's life in the ACD as the switch lives it: the
//! call arrives and is offered, the agent answers, the call ends, and for each of the
//! [`EVENTS_PER_CALL`] events the call machine handles meanwhile it runs the ACD's timers
//! (`handle_timeout`) and asks its next deadline twice (`poll_timeout`), as the edge does.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench -p hotline-acd --bench acd`

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotline_acd::{Acd, Action, AgentId, CallRef, QueueConfig, QueueId};

/// SIP messages of both legs (INVITE, 100, 180, 200, ACK each way, BYE and its 200 each
/// way) and media events of one call, roughly: every one is a step of the call machine.
const EVENTS_PER_CALL: usize = 14;

/// An ACD with `n` reachable, available agents in one queue without wrap-up, half of them on
/// a call, the clock at `t0`.
fn centre(n: usize, t0: Instant) -> (Acd, QueueId, u64) {
    let mut acd = Acd::new();
    let queue = QueueId("luoyang".into());
    acd.set_queue(
        queue.clone(),
        QueueConfig {
            wrap_up: Duration::ZERO,
            ..QueueConfig::default()
        },
    );
    for i in 0..n {
        let id = AgentId(format!("{}", 10_000 + i));
        acd.add_agent(t0, id.clone(), queue.clone());
        acd.phone_reachable(t0, &id, true);
    }
    let mut call = 0;
    for _ in 0..n / 2 {
        call += 1;
        one_call_answered(&mut acd, t0, CallRef(call), &queue);
    }
    while acd.poll_action().is_some() {}
    (acd, queue, call)
}

/// A call arrives and whoever is offered it answers; the agent who took it.
fn one_call_answered(acd: &mut Acd, now: Instant, call: CallRef, queue: &QueueId) -> AgentId {
    acd.call_arrived(now, call, queue.clone());
    let mut agent = None;
    while let Some(a) = acd.poll_action() {
        if let Action::Offer { agent: who, .. } = a {
            agent = Some(who);
        }
    }
    let agent = agent.expect("a free agent is offered the call");
    acd.answered(now, call, &agent).expect("the offer stands");
    agent
}

fn per_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("acd");
    group.throughput(Throughput::Elements(1));
    for n in [100, 1_000, 6_000] {
        group.bench_with_input(BenchmarkId::new("call_per_agents", n), &n, |b, &n| {
            let t0 = Instant::now();
            let (mut acd, queue, mut call) = centre(n, t0);
            let mut now = t0;
            b.iter(|| {
                now += Duration::from_millis(1);
                call += 1;
                let agent = one_call_answered(&mut acd, now, CallRef(call), &queue);
                for _ in 0..EVENTS_PER_CALL {
                    acd.handle_timeout(now);
                    black_box(acd.poll_timeout());
                    black_box(acd.poll_timeout());
                }
                acd.call_ended(now, &agent);
                while acd.poll_action().is_some() {}
            });
        });
    }
    group.finish();
}

criterion_group!(benches, per_call);
criterion_main!(benches);
