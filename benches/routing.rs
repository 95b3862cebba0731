//! Caller routing per call: the mobile segment lookup (7-digit prefix, binary search over
//! the embedded national table) and the full `Router::route` (normalise the caller id,
//! classify it, look up segment / area code / prefix, pick the region) on the bundled
//! Henan dialplan, for the caller-id forms carriers actually send.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench -p hotline-routing --bench routing`

use std::path::Path;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hotline_routing::{Dialplan, RegionId, Router, SegmentTable};

/// (caller id as received, trunk region, what it is) — one of each form the README lists.
const MIX: &[(&str, Option<&str>, &str)] = &[
    ("13903790000", None, "mobile_luoyang"),
    ("+8613903710000", None, "mobile_plus86"),
    ("008613903710000", None, "mobile_0086"),
    ("8613903710000", None, "mobile_86"),
    (
        "sip:15138810000@10.1.1.10;user=phone",
        None,
        "mobile_uri_jiyuan",
    ),
    ("13007640000", None, "mobile_kaifeng_0371"),
    ("19224610000", None, "mobile_county"),
    ("13800138000", None, "mobile_out_of_province"),
    ("037161234567", None, "landline_zhengzhou"),
    ("037122345678", None, "landline_kaifeng_prefix"),
    ("+86 371 6123 4567", None, "landline_spaced_plus86"),
    ("01062345678", None, "landline_beijing"),
    ("61234567", Some("luoyang"), "local_on_trunk"),
    ("61234567", None, "local_default_area"),
    ("+12125550100", None, "international"),
    ("anonymous", None, "anonymous"),
];

fn henan() -> Router {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialplans/henan.toml");
    let plan =
        Dialplan::load(&path).unwrap_or_else(|d| panic!("{} does not load: {d:?}", path.display()));
    let segments = SegmentTable::embedded().expect("embedded segment table");
    Router::new(&plan, segments)
}

fn segment_lookup(c: &mut Criterion) {
    let table = SegmentTable::embedded().expect("embedded segment table");
    // Luoyang, Zhengzhou, Jiyuan, a county segment, Beijing, and an unallocated one.
    let mobiles = [
        "13903790000",
        "13903710000",
        "15138810000",
        "19224610000",
        "13800138000",
        "19999990000",
    ];
    let mut g = c.benchmark_group("segments");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(50)
        .throughput(Throughput::Elements(mobiles.len() as u64));
    g.bench_function("lookup_6_mobiles", |b| {
        b.iter(|| {
            mobiles
                .iter()
                .filter(|m| table.segment(black_box(m)).is_some())
                .count()
        })
    });
    g.finish();
}

fn routing(c: &mut Criterion) {
    let router = henan();
    let regions: Vec<Option<RegionId>> = MIX
        .iter()
        .map(|(_, trunk, _)| trunk.map(|t| RegionId::new(t).expect("region id")))
        .collect();
    // The mix must really exercise every branch: check a few routes before timing them.
    let region_of =
        |raw: &str, trunk: Option<&RegionId>| router.route(raw, trunk).region.to_string();
    assert_eq!(region_of("13903790000", None), "luoyang");
    assert_eq!(region_of("037122345678", None), "kaifeng");
    assert_eq!(region_of("15138810000", None), "jiyuan");
    assert_eq!(region_of("13800138000", None), "centre");
    let mut g = c.benchmark_group("route");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
        .throughput(Throughput::Elements(1));
    for ((raw, _, name), trunk) in MIX.iter().zip(&regions) {
        g.bench_function(*name, |b| {
            b.iter(|| router.route(black_box(raw), trunk.as_ref()))
        });
    }
    g.throughput(Throughput::Elements(MIX.len() as u64));
    g.bench_function("mix_16_forms", |b| {
        b.iter(|| {
            for ((raw, _, _), trunk) in MIX.iter().zip(&regions) {
                black_box(router.route(black_box(raw), trunk.as_ref()));
            }
        })
    });
    g.finish();

    // What a `hotline reload` costs: parse + check the dialplan file and build the router.
    let mut g = c.benchmark_group("dialplan");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    g.bench_function("load_henan_and_build_router", |b| b.iter(henan));
    g.finish();
}

criterion_group!(benches, segment_lookup, routing);
criterion_main!(benches);
