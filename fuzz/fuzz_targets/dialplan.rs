//! Dialplan text into the loader and its checks (the `hotline check` path and every reload),
//! then caller numbers routed by the plan it accepted. Input: the TOML text, then after a
//! NUL byte the caller numbers, one per line.
#![no_main]

use std::path::Path;

use hotline_routing::{Dialplan, Router, SegmentTable};
use libfuzzer_sys::fuzz_target;

/// Beside the bundled plan, so that a plan's default `../prompts` finds the real prompts.
const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialplans/fuzz.toml");

fuzz_target!(|data: &[u8]| {
    let (text, numbers) = match data.iter().position(|b| *b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let plan = match Dialplan::parse(text, Path::new(FILE)) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            for d in diagnostics {
                let _ = d.to_string();
            }
            return;
        }
    };
    let _ = plan.service_number();
    let Ok(segments) = SegmentTable::embedded() else {
        return;
    };
    let router = Router::new(&plan, segments);
    for number in String::from_utf8_lossy(numbers).lines() {
        let route = router.route(number, None);
        let _ = plan.region(&route.region);
        for trunk in &plan.trunks {
            let _ = router.route(number, trunk.region.as_ref());
            let _ = trunk.allows(number);
        }
        let _ = (
            plan.agent(number),
            plan.phone(number),
            plan.trunk_for(number),
        );
    }
});
