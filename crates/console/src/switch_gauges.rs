//! The switch's own figures for `/metrics`, beside the board's: SIP messages by direction,
//! method and class; refusals (503s sent, sign-ins the brakes refused unchecked); RTP
//! relayed, played, dropped and lost (summed as each call's media stops); the recordings'
//! write lag, queue and failures; the call store's queue; calls in progress by stage.

use std::sync::Arc;

use hotline_b2bua::Board;
use hotline_media::totals::MediaTotals;
use hotline_record::{CallStore, Recorder};
use hotline_sip::stats::{Flow, SipCounters, CLASSES, METHODS};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Where the switch's figures are read from.
#[derive(Debug, Clone)]
pub struct SwitchGauges {
    /// SIP messages counted at the sockets.
    pub sip: Arc<SipCounters>,
    /// Every stopped call's media.
    pub media: Arc<MediaTotals>,
    /// The recordings' writer.
    pub recorder: Recorder,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    direction: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Class {
    direction: &'static str,
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Label {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Stage {
    stage: &'static str,
}

fn counter(n: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(n);
    c
}

fn gauge(n: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(n).unwrap_or(i64::MAX));
    g
}

/// Registers the SIP counts.
fn sip(registry: &mut Registry, sip: &SipCounters) {
    let requests = Family::<Method, Counter>::default();
    let responses = Family::<Class, Counter>::default();
    let garbage = Family::<Label, Counter>::default();
    let flows: [(&'static str, &Flow); 2] = [("in", &sip.inbound), ("out", &sip.outbound)];
    for (direction, flow) in flows {
        let names = METHODS.iter().copied().chain(["other"]);
        for (i, method) in names.enumerate() {
            let n = flow.requests(i);
            if n > 0 {
                requests
                    .get_or_create(&Method { direction, method })
                    .inc_by(n);
            }
        }
        for (i, class) in CLASSES.iter().copied().enumerate() {
            let n = flow.responses(i);
            if n > 0 {
                responses
                    .get_or_create(&Class { direction, class })
                    .inc_by(n);
            }
        }
        garbage
            .get_or_create(&Label { kind: direction })
            .inc_by(flow.garbage());
    }
    registry.register(
        "sip_requests",
        "SIP requests by direction and method",
        requests,
    );
    registry.register(
        "sip_responses",
        "SIP responses by direction and class",
        responses,
    );
    registry.register(
        "sip_unreadable",
        "Datagrams that were neither a request nor a response, by direction (kind)",
        garbage,
    );
}

/// Registers the switch's figures.
pub(crate) fn register(
    registry: &mut Registry,
    gauges: Option<&SwitchGauges>,
    board: &Board,
    store: Option<&CallStore>,
) {
    let calls = Family::<Stage, Gauge>::default();
    for stage in ["waiting", "menu", "talking", "parked"] {
        let n = board.calls.get(stage).copied().unwrap_or(0);
        calls.get_or_create(&Stage { stage }).set(i64::from(n));
    }
    registry.register("calls_in_progress", "Calls in progress by stage", calls);
    registry.register(
        "calls_ceiling",
        "Calls in progress at most: the dialplan's [overload] max_calls, or the file limit's",
        gauge(u64::from(board.ceiling)),
    );
    let shed = Family::<Label, Counter>::default();
    for (kind, n) in [
        ("ceiling", board.shed.ceiling),
        ("source-rate", board.shed.source_rate),
        ("lag", board.shed.lag),
    ] {
        shed.get_or_create(&Label { kind }).inc_by(n);
    }
    registry.register(
        "shed",
        "New calls and registrations refused with 503 by the overload brakes, by reason",
        shed,
    );
    let malformed = Family::<Label, Counter>::default();
    for (kind, n) in [
        ("answered-400", board.malformed.answered_400),
        ("dropped", board.malformed.dropped),
    ] {
        malformed.get_or_create(&Label { kind }).inc_by(n);
    }
    registry.register(
        "sip_malformed",
        "Messages the SIP parser or its checks refused, by what became of them: answered 400, \
         or dropped (responses, ACKs, too broken to answer; the unreadable are in sip_unreadable too)",
        malformed,
    );
    let refused = Family::<Label, Counter>::default();
    refused
        .get_or_create(&Label { kind: "brakes" })
        .inc_by(board.refused_by_brakes);
    if let Some(store) = store {
        registry.register(
            "store_queued_writes",
            "Call store writes queued and not yet written",
            gauge(store.queued_writes()),
        );
    }
    let Some(g) = gauges else {
        registry.register(
            "refused",
            "Requests refused: 503 sent (overload), brakes",
            refused,
        );
        return;
    };
    refused
        .get_or_create(&Label {
            kind: "overload-503",
        })
        .inc_by(g.sip.refused_503());
    refused
        .get_or_create(&Label {
            kind: "dropped-unread",
        })
        .inc_by(g.sip.dropped_new());
    registry.register(
        "refused",
        "Requests refused: 503 sent (overload), brakes, new requests dropped unread",
        refused,
    );
    sip(registry, &g.sip);
    let rtp = Family::<Label, Counter>::default();
    for (kind, n) in [
        ("relayed", g.media.relayed()),
        ("played", g.media.played()),
        ("dropped", g.media.dropped()),
        ("lost", g.media.lost()),
    ] {
        rtp.get_or_create(&Label { kind }).inc_by(n);
    }
    registry.register(
        "rtp_packets",
        "RTP packets of ended calls: relayed, played by the switch, dropped, lost on the way",
        rtp,
    );
    let lag = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    lag.set(g.recorder.write_lag().as_secs_f64());
    registry.register(
        "recording_write_lag_seconds",
        "How long the last chunk of audio written waited for the recordings' writer",
        lag,
    );
    registry.register(
        "recording_queued_chunks",
        "Chunks of audio waiting for the recordings' writer",
        gauge(g.recorder.queued_chunks()),
    );
    registry.register(
        "recording_failures",
        "Recordings that could not be created or written",
        counter(g.recorder.failed_recordings()),
    );
    registry.register(
        "recording_dropped_samples",
        "Samples dropped because the writer fell behind",
        counter(g.recorder.dropped_samples()),
    );
}
