//! Picks the region whose agents answer a caller: by landline prefix, mobile segment, or the
//! trunk a local number came in on. Built once per dialplan load, then called per call.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::area_code::AreaCode;
use crate::dialplan::Dialplan;
use crate::ids::RegionId;
use crate::number::{CallerKind, CallerNumber};
use crate::segments::SegmentTable;

/// Where a caller is from, as the reports count callers from outside the city.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// From the switch's province (its own city or another one).
    InProvince,
    /// From another province of China.
    OutOfProvince,
    /// From abroad.
    International,
    /// Anonymous, or a number whose place is not known.
    Unknown,
}

impl Origin {
    /// The snake_case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::InProvince => "in_province",
            Origin::OutOfProvince => "out_of_province",
            Origin::International => "international",
            Origin::Unknown => "unknown",
        }
    }
}

/// The routing decision for one call, with what reports need to know about the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The caller id as received.
    pub number: String,
    /// Its normalised form ([`CallerNumber`]); a local number from no known trunk gets the
    /// default area code.
    pub normalized: String,
    /// What kind of number it is.
    pub kind: CallerKind,
    /// The region whose queue takes the call.
    pub region: RegionId,
    /// Where the caller is from.
    pub origin: Origin,
    /// The caller's province, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<Arc<str>>,
    /// The caller's city, when known (mobiles; landlines whose area code is one city's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<Arc<str>>,
    /// The caller's area code, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_code: Option<AreaCode>,
}

/// Lookup tables built from a dialplan and the segment table. Cheap per call: a few hash
/// lookups and one binary search; the only allocations are the route's two strings.
#[derive(Clone, Debug)]
pub struct Router {
    segments: SegmentTable,
    province: Arc<str>,
    centre: RegionId,
    default_area_code: AreaCode,
    /// Area codes and longer prefixes of all regions, for longest-prefix match.
    by_prefix: HashMap<Box<str>, RegionId>,
    longest_prefix: usize,
    /// Area codes only: county mobile segments carry their city's area code.
    by_area_code: HashMap<AreaCode, RegionId>,
    by_city: HashMap<Box<str>, RegionId>,
    regions: Vec<RegionId>,
}

/// Everything of a route but the numbers.
struct Destination {
    region: RegionId,
    origin: Origin,
    province: Option<Arc<str>>,
    city: Option<Arc<str>>,
    area_code: Option<AreaCode>,
}

impl Router {
    /// Builds the lookup tables of a (checked) dialplan.
    pub fn new(dialplan: &Dialplan, segments: &SegmentTable) -> Router {
        let mut by_prefix: HashMap<Box<str>, RegionId> = HashMap::new();
        let mut by_area_code = HashMap::new();
        let mut by_city = HashMap::new();
        for region in &dialplan.regions {
            for area in &region.area_codes {
                by_prefix.insert(Box::from(area.as_str()), region.id.clone());
                by_area_code.insert(*area, region.id.clone());
            }
            for prefix in &region.prefixes {
                by_prefix.insert(Box::from(prefix.as_str()), region.id.clone());
            }
            for city in &region.cities {
                by_city.insert(Box::from(city.as_str()), region.id.clone());
            }
        }
        Router {
            segments: segments.clone(),
            province: Arc::from(dialplan.switch.province.as_str()),
            centre: dialplan.switch.centre.clone(),
            default_area_code: dialplan.switch.default_area_code,
            longest_prefix: by_prefix.keys().map(|k| k.len()).max().unwrap_or(0),
            by_prefix,
            by_area_code,
            by_city,
            regions: dialplan.regions.iter().map(|r| r.id.clone()).collect(),
        }
    }

    /// Routes a caller id as received. `trunk_region` is the region of the trunk the call
    /// came in on, if any: local numbers (no area code) belong to it.
    pub fn route(&self, raw: &str, trunk_region: Option<&RegionId>) -> Route {
        let caller = CallerNumber::parse(raw);
        let kind = caller.kind();
        let mut normalized = caller.into_string();
        let destination = match kind {
            CallerKind::Mobile => self.mobile(&normalized),
            CallerKind::Landline => self.landline(&normalized),
            CallerKind::Local => match trunk_region.filter(|r| self.regions.contains(r)) {
                Some(region) => self.in_province(region.clone()),
                None => {
                    normalized.insert_str(0, self.default_area_code.as_str());
                    self.landline(&normalized)
                }
            },
            CallerKind::International => self.centre(Origin::International),
            CallerKind::Anonymous | CallerKind::Unknown => self.centre(Origin::Unknown),
        };
        Route {
            number: raw.to_owned(),
            normalized,
            kind,
            region: destination.region,
            origin: destination.origin,
            province: destination.province,
            city: destination.city,
            area_code: destination.area_code,
        }
    }

    /// The provincial contact centre's region.
    pub fn centre_region(&self) -> &RegionId {
        &self.centre
    }

    /// City first (济源 mobiles share 0391 with 焦作), then area code (county segments such
    /// as 潢川 name the county, not the city); another province goes to the centre.
    fn mobile(&self, number: &str) -> Destination {
        let Some(place) = self.segments.segment(number) else {
            return self.centre(Origin::Unknown);
        };
        let in_province = place.province == self.province;
        let region = if in_province {
            self.by_city
                .get(&*place.city)
                .or_else(|| self.by_area_code.get(&place.area_code))
                .unwrap_or(&self.centre)
        } else {
            &self.centre
        };
        Destination {
            region: region.clone(),
            origin: if in_province {
                Origin::InProvince
            } else {
                Origin::OutOfProvince
            },
            province: Some(Arc::clone(&place.province)),
            city: Some(Arc::clone(&place.city)),
            area_code: Some(place.area_code),
        }
    }

    /// Longest-prefix match over every region's prefixes and area codes; an unclaimed area
    /// code goes to the centre, counted by the province the segment table gives it.
    fn landline(&self, number: &str) -> Destination {
        let area_code = AreaCode::leading(number);
        let area = area_code.and_then(|code| self.segments.area(&code));
        let province = area.map(|a| Arc::clone(&a.province));
        let city = area.and_then(|a| a.city.clone());
        let (region, origin) = match self.longest_prefix_match(number) {
            Some(region) => (region.clone(), Origin::InProvince),
            None => {
                let origin = match &province {
                    Some(p) if *p == self.province => Origin::InProvince,
                    Some(_) => Origin::OutOfProvince,
                    None => Origin::Unknown,
                };
                (self.centre.clone(), origin)
            }
        };
        let province = match origin {
            Origin::InProvince => province.or_else(|| Some(Arc::clone(&self.province))),
            _ => province,
        };
        Destination {
            region,
            origin,
            province,
            city,
            area_code,
        }
    }

    fn longest_prefix_match(&self, number: &str) -> Option<&RegionId> {
        let longest = self.longest_prefix.min(number.len());
        (1..=longest)
            .rev()
            .find_map(|len| self.by_prefix.get(number.get(..len)?))
    }

    fn in_province(&self, region: RegionId) -> Destination {
        Destination {
            region,
            origin: Origin::InProvince,
            province: Some(Arc::clone(&self.province)),
            city: None,
            area_code: None,
        }
    }

    fn centre(&self, origin: Origin) -> Destination {
        Destination {
            region: self.centre.clone(),
            origin,
            province: None,
            city: None,
            area_code: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    fn henan() -> Router {
        let text = include_str!("../../../dialplans/henan.toml");
        let plan = Dialplan::parse(
            text,
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../dialplans/henan.toml"
            )),
        )
        .unwrap();
        Router::new(&plan, SegmentTable::embedded().unwrap())
    }

    fn region_of(router: &Router, number: &str) -> String {
        router.route(number, None).region.to_string()
    }

    fn region(id: &str) -> RegionId {
        RegionId::new(id).unwrap()
    }

    #[test]
    fn caller_from_luoyang_reaches_luoyang() {
        let route = henan().route("13903790000", None);
        assert_eq!(route.region.as_str(), "luoyang");
        assert_eq!(route.kind, CallerKind::Mobile);
        assert_eq!(route.origin, Origin::InProvince);
        assert_eq!(route.city.as_deref(), Some("洛阳"));
        assert_eq!(route.area_code.unwrap().as_str(), "0379");
    }

    #[test]
    fn every_form_of_a_mobile_reaches_the_same_region() {
        let router = henan();
        for raw in [
            "13903790000",
            "+8613903790000",
            "008613903790000",
            "8613903790000",
            "sip:+86-139-0379-0000@carrier.example",
        ] {
            let route = router.route(raw, None);
            assert_eq!(route.region.as_str(), "luoyang", "{raw}");
            assert_eq!(route.normalized, "13903790000");
            assert_eq!(route.number, raw);
        }
    }

    #[test]
    fn kaifeng_landlines_are_split_from_zhengzhou_by_prefix() {
        let router = henan();
        assert_eq!(region_of(&router, "037122345678"), "kaifeng");
        assert_eq!(region_of(&router, "037161234567"), "zhengzhou");
        assert_eq!(region_of(&router, "+86 371 2234 5678"), "kaifeng");
        assert_eq!(
            router.route("037122345678", None).origin,
            Origin::InProvince
        );
    }

    #[test]
    fn kaifeng_mobiles_reach_kaifeng_though_they_carry_0371() {
        // 1300764 is a Kaifeng segment with area code 0371 in the segment table.
        let route = henan().route("13007640000", None);
        assert_eq!(route.region.as_str(), "kaifeng");
        assert_eq!(route.area_code.unwrap().as_str(), "0371");
    }

    #[test]
    fn jiyuan_and_jiaozuo_mobiles_are_told_apart_by_city() {
        let router = henan();
        // 1513881 is 济源, 1300765 is 焦作; both 0391.
        assert_eq!(region_of(&router, "15138810000"), "jiyuan");
        assert_eq!(region_of(&router, "13007650000"), "jiaozuo");
        assert_eq!(region_of(&router, "039161234567"), "jiyuan");
        assert_eq!(region_of(&router, "039121234567"), "jiaozuo");
    }

    #[test]
    fn county_segment_reaches_its_city_by_area_code() {
        // 1922461 is 潢川 (0376), a county of 信阳.
        let route = henan().route("19224610000", None);
        assert_eq!(route.region.as_str(), "xinyang");
        assert_eq!(route.city.as_deref(), Some("潢川"));
    }

    #[test]
    fn out_of_province_mobile_goes_to_the_centre() {
        // 1300000 is 济南, 山东.
        let route = henan().route("13000000000", None);
        assert_eq!(route.region.as_str(), "centre");
        assert_eq!(route.origin, Origin::OutOfProvince);
        assert_eq!(route.province.as_deref(), Some("山东"));
    }

    #[test]
    fn beijing_landline_goes_to_the_centre_as_out_of_province() {
        let route = henan().route("01062345678", None);
        assert_eq!(route.region.as_str(), "centre");
        assert_eq!(route.origin, Origin::OutOfProvince);
        assert_eq!(route.province.as_deref(), Some("北京"));
        assert_eq!(route.area_code.unwrap().as_str(), "010");
    }

    #[test]
    fn landline_of_an_area_code_nobody_knows_is_unknown() {
        // 0399 follows the numbering plan but no segment carries it.
        let route = henan().route("039961234567", None);
        assert_eq!(route.region.as_str(), "centre");
        assert_eq!(route.origin, Origin::Unknown);
    }

    #[test]
    fn in_province_caller_of_a_city_not_yet_on_the_platform_goes_to_the_centre() {
        let text = r#"
            [switch]
            service_numbers = ["12366"]
            province = "河南"
            centre = "centre"
            default_area_code = "0371"
            [[region]]
            id = "centre"
            name = "省局联络中心"
            [[region]]
            id = "zhengzhou"
            name = "郑州"
            cities = ["郑州"]
            area_codes = ["0371"]
        "#;
        let plan = Dialplan::parse(text, Path::new("t.toml")).unwrap();
        let router = Router::new(&plan, SegmentTable::embedded().unwrap());
        for number in ["037961234567", "13903790000"] {
            let route = router.route(number, None);
            assert_eq!(route.region.as_str(), "centre", "{number}");
            assert_eq!(route.origin, Origin::InProvince, "{number}");
        }
    }

    #[test]
    fn unallocated_mobile_segment_goes_to_the_centre_as_unknown() {
        // No carrier has 1999999 in the table.
        let route = henan().route("19999990000", None);
        assert_eq!(route.kind, CallerKind::Mobile);
        assert_eq!(route.region.as_str(), "centre");
        assert_eq!(route.origin, Origin::Unknown);
    }

    #[test]
    fn international_caller_goes_to_the_centre() {
        for raw in ["+12125550100", "0012125550100"] {
            let route = henan().route(raw, None);
            assert_eq!(route.region.as_str(), "centre");
            assert_eq!(route.origin, Origin::International);
            assert_eq!(route.normalized, "+12125550100");
        }
    }

    #[test]
    fn anonymous_caller_goes_to_the_centre() {
        for raw in [
            "anonymous",
            "",
            "unknown",
            "sip:anonymous@anonymous.invalid",
        ] {
            let route = henan().route(raw, None);
            assert_eq!(route.kind, CallerKind::Anonymous);
            assert_eq!(route.region.as_str(), "centre");
            assert_eq!(route.origin, Origin::Unknown);
        }
    }

    #[test]
    fn unknown_digits_go_to_the_centre() {
        let route = henan().route("12366", None);
        assert_eq!(route.kind, CallerKind::Unknown);
        assert_eq!(route.region.as_str(), "centre");
    }

    #[test]
    fn local_number_belongs_to_the_trunks_region() {
        let route = henan().route("61234567", Some(&region("luoyang")));
        assert_eq!(route.kind, CallerKind::Local);
        assert_eq!(route.region.as_str(), "luoyang");
        assert_eq!(route.normalized, "61234567");
        assert_eq!(route.origin, Origin::InProvince);
    }

    #[test]
    fn local_number_from_no_trunk_gets_the_default_area_code() {
        let router = henan();
        let route = router.route("61234567", None);
        assert_eq!(route.region.as_str(), "zhengzhou");
        assert_eq!(route.normalized, "037161234567");
        assert_eq!(route.kind, CallerKind::Local);
        // Kaifeng's 2xxxxxxx numbers are inside 0371 too.
        assert_eq!(region_of(&router, "22345678"), "kaifeng");
    }

    #[test]
    fn local_number_from_a_trunk_of_an_unknown_region_gets_the_default_area_code() {
        let route = henan().route("61234567", Some(&region("atlantis")));
        assert_eq!(route.region.as_str(), "zhengzhou");
    }

    #[test]
    fn route_serialises_with_lowercase_kind_and_origin() {
        let json = serde_json::to_value(henan().route("13903790000", None)).unwrap();
        assert_eq!(json["kind"], "mobile");
        assert_eq!(json["origin"], "in_province");
        assert_eq!(json["region"], "luoyang");
        assert_eq!(json["area_code"], "0379");
        assert_eq!(json["city"], "洛阳");
        let anonymous = serde_json::to_value(henan().route("anonymous", None)).unwrap();
        assert!(anonymous.get("province").is_none(), "{anonymous}");
        assert_eq!(anonymous["normalized"], "");
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(raw in ".*") {
            let _ = CallerNumber::parse(&raw);
        }

        #[test]
        fn routing_any_string_never_panics(raw in ".*", trunk in proptest::option::of("[a-z]{1,10}")) {
            let router = henan();
            let trunk = trunk.and_then(|t| RegionId::new(&t));
            let route = router.route(&raw, trunk.as_ref());
            prop_assert_eq!(route.number, raw);
        }

        #[test]
        fn routing_digit_strings_never_panics(raw in "[+0-9 ()-]{0,20}") {
            let route = henan().route(&raw, None);
            prop_assert!(!route.region.as_str().is_empty());
        }

        #[test]
        fn every_henan_mobile_reaches_a_city_region(suffix in 0u32..10_000, prefix in 1_300_000u32..2_000_000) {
            let router = henan();
            let number = format!("{prefix}{suffix:04}");
            let route = router.route(&number, None);
            if route.province.as_deref() == Some("河南") {
                prop_assert_ne!(route.region.as_str(), "centre");
            }
        }
    }
}
