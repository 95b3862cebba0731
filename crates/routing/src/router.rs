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
