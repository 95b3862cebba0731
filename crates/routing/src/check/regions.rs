//! The dialplan's regions: each city's id, mode (remote seats or its legacy system) and
//! queue settings, checked as the rest of the plan is, every problem reported with its place.

use super::*;

impl Checker<'_> {
    pub(super) fn region(
        &mut self,
        raw: RawRegion,
        region_ids: &mut Seen<()>,
        claims: &mut Claims,
    ) -> Option<Region> {
        let id = self.region_id(&raw.id, region_ids);
        let queue = self.queue_settings(&raw);
        let ring_timeout = match raw.ring_timeout_secs {
            Some(secs) if *secs.get_ref() == 0 || *secs.get_ref() > MAX_RING_TIMEOUT_SECS => {
                self.report(&secs.span(), Problem::ZeroRingTimeout);
                0
            }
            Some(secs) => secs.into_inner(),
            None => DEFAULT_RING_TIMEOUT_SECS,
        };
        let overflow_after = match raw.overflow_after_secs {
            Some(secs) if *secs.get_ref() > MAX_OVERFLOW_AFTER_SECS => {
                self.report(&secs.span(), Problem::OverflowTooLong);
                0
            }
            Some(secs) => secs.into_inner(),
            None => DEFAULT_OVERFLOW_AFTER_SECS,
        };
        let owner = raw.id.get_ref();
        for city in &raw.cities {
            self.city(city, owner, &mut claims.cities);
        }
        let area_codes: Vec<AreaCode> = raw
            .area_codes
            .iter()
            .filter_map(|code| {
                let area = self.area_code(code)?;
                self.claim(code, owner, &mut claims.prefixes);
                Some(area)
            })
            .collect();
        for prefix in &raw.prefixes {
            if self.prefix(prefix) {
                self.claim(prefix, owner, &mut claims.prefixes);
            }
        }
        let mode = self.mode(raw.mode, raw.legacy_trunk);
        Some(Region {
            id: id?,
            name: raw.name,
            cities: raw.cities.into_iter().map(Spanned::into_inner).collect(),
            area_codes,
            prefixes: raw.prefixes.into_iter().map(Spanned::into_inner).collect(),
            ring_timeout: Duration::from_secs(ring_timeout),
            overflow_after: Duration::from_secs(overflow_after),
            queue,
            mode: mode?,
        })
    }

    /// A region queue's distribution settings, each checked against its range.
    fn queue_settings(&mut self, raw: &RawRegion) -> QueueSettings {
        let strategy = match &raw.strategy {
            Some(s) if !STRATEGIES.contains(&s.get_ref().as_str()) => {
                self.report(&s.span(), Problem::UnknownStrategy(s.get_ref().clone()));
                STRATEGIES[0].to_string()
            }
            Some(s) => s.get_ref().clone(),
            None => STRATEGIES[0].to_string(),
        };
        let wrap_up = self.ranged(&raw.wrap_up_secs, "wrap_up_secs", "0 to 3600", 0..=3600);
        let widen_after = self.ranged(
            &raw.widen_after_secs,
            "widen_after_secs",
            "0 to 86400",
            0..=86_400,
        );
        let first_levels = self.ranged(
            &widened(&raw.first_levels),
            "first_levels",
            "1 (best level only) to 5 (every level)",
            1..=5,
        );
        let missed = self.ranged(
            &widened(&raw.missed_before_pause),
            "missed_before_pause",
            "1 to 100",
            1..=100,
        );
        QueueSettings {
            strategy,
            wrap_up: Duration::from_secs(wrap_up.unwrap_or(DEFAULT_WRAP_UP_SECS)),
            first_levels: first_levels.map_or(5, |l| l as u8),
            widen_after: Duration::from_secs(widen_after.unwrap_or(30)),
            missed_before_pause: missed.map_or(1, |m| m as u32),
        }
    }

    /// A number in range, or `None` when absent (or reported out of range).
    fn ranged(
        &mut self,
        value: &Option<Spanned<u64>>,
        key: &'static str,
        range: &'static str,
        allowed: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let v = value.as_ref()?;
        if allowed.contains(v.get_ref()) {
            Some(*v.get_ref())
        } else {
            self.report(&v.span(), Problem::OutOfRange { key, range });
            None
        }
    }

    fn mode(
        &mut self,
        mode: Option<Spanned<String>>,
        trunk: Option<Spanned<String>>,
    ) -> Option<RegionMode> {
        match (mode.as_ref().map(|m| m.get_ref().as_str()), trunk) {
            (None | Some("remote"), None) => Some(RegionMode::Remote),
            (None | Some("remote"), Some(t)) => {
                let why = "legacy_trunk is only for mode = \"legacy\"".to_string();
                self.report(&t.span(), Problem::BadMode(why));
                None
            }
            (Some("legacy"), Some(t)) => {
                self.trunk_refs.push((t.span(), t.get_ref().clone()));
                Some(RegionMode::Legacy {
                    trunk: t.into_inner(),
                })
            }
            (Some("legacy"), None) => {
                let why =
                    "mode = \"legacy\" needs legacy_trunk: the trunk to the city's old system";
                let span = mode.map(|m| m.span()).unwrap_or(0..0);
                self.report(&span, Problem::BadMode(why.to_string()));
                None
            }
            (Some(other), _) => {
                let why = format!("mode `{other}` must be \"remote\" or \"legacy\"");
                let span = mode.as_ref().map(|m| m.span()).unwrap_or(0..0);
                self.report(&span, Problem::BadMode(why));
                None
            }
        }
    }

    fn region_id(&mut self, raw: &Spanned<String>, seen: &mut Seen<()>) -> Option<RegionId> {
        let text = raw.get_ref();
        let line = self.line(&raw.span());
        if let Some(&((), first_line)) = seen.get(text) {
            let problem = Problem::DuplicateRegion {
                id: text.clone(),
                first_line,
            };
            self.report(&raw.span(), problem);
            return None;
        }
        seen.insert(text.clone(), ((), line));
        let id = RegionId::new(text);
        if id.is_none() {
            self.report(&raw.span(), Problem::BadRegionId(text.clone()));
        }
        id
    }

    /// The region an agent or trunk names, if a `[[region]]` defines it.
    pub(super) fn known_region(
        &mut self,
        region: &Spanned<String>,
        region_ids: &Seen<()>,
    ) -> Option<RegionId> {
        if !region_ids.contains_key(region.get_ref()) {
            self.report(
                &region.span(),
                Problem::UnknownRegion(region.get_ref().clone()),
            );
            return None;
        }
        RegionId::new(region.get_ref())
    }
}

/// A small integer setting as the u64 [`Checker::ranged`] checks, keeping where it was written.
fn widened<T: Copy + Into<u64>>(value: &Option<Spanned<T>>) -> Option<Spanned<u64>> {
    value
        .as_ref()
        .map(|v| Spanned::new(v.span(), (*v.get_ref()).into()))
}
