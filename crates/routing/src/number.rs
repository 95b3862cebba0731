//! Caller-number normalisation: caller ids arrive from carriers and softphones in many
//! forms (`+86…`, `0086…`, `86…`, with or without the trunk `0`, with separators, as SIP
//! URIs); routing needs one form per kind of number.

use std::fmt;

use serde::Serialize;

use crate::area_code::AreaCode;

/// What kind of number a caller id is; decides how it is routed and counted in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallerKind {
    /// An 11-digit mainland mobile number (`13903710000`): routed by its segment.
    Mobile,
    /// A landline with its area code (`037161234567`): routed by longest prefix.
    Landline,
    /// A 7–8 digit local number with no area code: the city of the trunk it came in on.
    Local,
    /// A number with a country code other than 86 (`+12125550100`).
    International,
    /// No number presented (`anonymous`, empty, not numeric).
    Anonymous,
    /// Digits that fit no form above.
    Unknown,
}

impl CallerKind {
    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::Mobile => "mobile",
            CallerKind::Landline => "landline",
            CallerKind::Local => "local",
            CallerKind::International => "international",
            CallerKind::Anonymous => "anonymous",
            CallerKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for CallerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A caller id in normalised form: mobile = 11 digits, landline = `0` + area code + local
/// number, local = its 7–8 digits, international = `+` + digits, anonymous = empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallerNumber {
    normalized: String,
    kind: CallerKind,
}

/// Caller ids carriers send when the number is withheld.
const WITHHELD: [&str; 6] = [
    "anonymous",
    "unknown",
    "unavailable",
    "restricted",
    "private",
    "withheld",
];

impl CallerNumber {
    /// Normalises a caller id as received (a number, a SIP user part or a whole URI).
    /// Never fails: what cannot be read is [`CallerKind::Anonymous`] or [`CallerKind::Unknown`].
    pub fn parse(raw: &str) -> CallerNumber {
        let compact: String = user_part(raw)
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '-' | '(' | ')' | '.'))
            .collect();
        let (plus, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        let withheld = WITHHELD.iter().any(|w| compact.eq_ignore_ascii_case(w));
        if withheld || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return CallerNumber::new(String::new(), CallerKind::Anonymous);
        }
        classify(plus, digits).unwrap_or_else(|| CallerNumber::new(compact, CallerKind::Unknown))
    }

    fn new(normalized: String, kind: CallerKind) -> CallerNumber {
        CallerNumber { normalized, kind }
    }

    /// The normalised number (empty when anonymous).
    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// What kind of number it is.
    pub fn kind(&self) -> CallerKind {
        self.kind
    }

    /// The area code of a landline; `None` for every other kind.
    pub fn area_code(&self) -> Option<AreaCode> {
        match self.kind {
            CallerKind::Landline => AreaCode::leading(&self.normalized),
            _ => None,
        }
    }

    /// The normalised number, owned.
    pub fn into_string(self) -> String {
        self.normalized
    }
}

impl fmt::Display for CallerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

/// The user part of `raw`, which may be a bare number, `sip:user@host;params`, a `tel:` URI
/// or a name-addr with angle brackets, as carriers put in From and P-Asserted-Identity.
fn user_part(raw: &str) -> &str {
    let mut s = raw.trim();
    if let Some((_, inner)) = s.split_once('<') {
        s = inner.split_once('>').map_or(inner, |(uri, _)| uri);
    }
    for scheme in ["sips:", "sip:", "tel:"] {
        let has_scheme = s
            .get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme));
        if has_scheme {
            s = s.get(scheme.len()..).unwrap_or("");
            break;
        }
    }
    let end = s.find(['@', ';', '?']).unwrap_or(s.len());
    s.get(..end).unwrap_or(s)
}

/// Classifies ASCII digits (after an optional `+`); `None` when they fit no form.
fn classify(plus: bool, digits: &str) -> Option<CallerNumber> {
    if plus {
        return international_or_china(digits);
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return international_or_china(rest);
    }
    if let Some(national) = digits.strip_prefix("86").filter(|_| digits.len() >= 12) {
        // 86 + mobile is 13 digits and 86 + landline at least 12; shorter is a local number.
        return from_national(national);
    }
    if digits.starts_with('0') {
        return with_trunk_zero(digits);
    }
    if is_mobile(digits) {
        return Some(CallerNumber::new(digits.to_owned(), CallerKind::Mobile));
    }
    if is_local(digits) {
        return Some(CallerNumber::new(digits.to_owned(), CallerKind::Local));
    }
    None
}

/// Digits after an international prefix (`+` or `00`).
fn international_or_china(digits: &str) -> Option<CallerNumber> {
    if let Some(national) = digits.strip_prefix("86") {
        return from_national(national);
    }
    // E.164 numbers are at most 15 digits; country codes never start with 0.
    let plausible = (7..=15).contains(&digits.len()) && !digits.starts_with('0');
    plausible.then(|| CallerNumber::new(format!("+{digits}"), CallerKind::International))
}

/// A Chinese number after its country code: a mobile, or a landline usually without its
/// trunk `0` (`371 6123 4567`, `10 6234 5678`), which is added back.
fn from_national(national: &str) -> Option<CallerNumber> {
    if is_mobile(national) {
        return Some(CallerNumber::new(national.to_owned(), CallerKind::Mobile));
    }
    if national.starts_with('0') {
        return with_trunk_zero(national);
    }
    landline(&format!("0{national}"))
}

/// A number starting with the trunk `0`: a landline, or a mobile dialled with a `0` in front
/// (some exchanges present out-of-area mobiles that way).
fn with_trunk_zero(digits: &str) -> Option<CallerNumber> {
    match digits.get(1..) {
        Some(mobile) if is_mobile(mobile) => {
            Some(CallerNumber::new(mobile.to_owned(), CallerKind::Mobile))
        }
        _ => landline(digits),
    }
}

/// `0` + area code + a 7–8 digit local number that does not start with 0.
fn landline(digits: &str) -> Option<CallerNumber> {
    let area = AreaCode::leading(digits)?;
    let local = digits.get(area.as_str().len()..)?;
    let valid = (7..=8).contains(&local.len()) && !local.starts_with('0');
    valid.then(|| CallerNumber::new(digits.to_owned(), CallerKind::Landline))
}

/// Mainland mobiles: 11 digits, `1` then 3–9.
fn is_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11 && matches!(bytes, [b'1', b'3'..=b'9', ..])
}

/// A local landline number with no area code: 7–8 digits, not starting with 0 or 1
/// (those are area codes, mobiles and service numbers such as 12366).
fn is_local(digits: &str) -> bool {
    (7..=8).contains(&digits.len()) && matches!(digits.as_bytes(), [b'2'..=b'9', ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (String, CallerKind) {
        let n = CallerNumber::parse(raw);
        (n.as_str().to_owned(), n.kind())
    }

    fn mobile(n: &str) -> (String, CallerKind) {
        (n.to_owned(), CallerKind::Mobile)
    }

    fn landline(n: &str) -> (String, CallerKind) {
        (n.to_owned(), CallerKind::Landline)
    }

    #[test]
    fn mobile_in_every_form_normalises_to_eleven_digits() {
        for raw in [
            "13903710000",
            "+8613903710000",
            "008613903710000",
            "8613903710000",
            "+86 139 0371 0000",
            "139-0371-0000",
            "013903710000",
        ] {
            assert_eq!(parsed(raw), mobile("13903710000"), "{raw}");
        }
    }

    #[test]
    fn landline_with_trunk_zero_keeps_it() {
        assert_eq!(parsed("037161234567"), landline("037161234567"));
        assert_eq!(parsed("(0371) 6123-4567"), landline("037161234567"));
        assert_eq!(parsed("01062345678"), landline("01062345678"));
    }

    #[test]
    fn landline_with_country_code_gets_its_trunk_zero_back() {
        for raw in [
            "+86 371 6123 4567",
            "0086371 61234567",
            "8637161234567",
            "+86 0371 6123 4567",
        ] {
            assert_eq!(parsed(raw), landline("037161234567"), "{raw}");
        }
        assert_eq!(parsed("+86 10 6234 5678"), landline("01062345678"));
        assert_eq!(parsed("861062345678"), landline("01062345678"));
    }

    #[test]
    fn seven_or_eight_digits_without_area_code_are_local() {
        assert_eq!(
            parsed("61234567"),
            ("61234567".to_owned(), CallerKind::Local)
        );
        assert_eq!(parsed("6123456"), ("6123456".to_owned(), CallerKind::Local));
    }

    #[test]
    fn other_country_codes_are_international() {
        let us = ("+12125550100".to_owned(), CallerKind::International);
        assert_eq!(parsed("+12125550100"), us);
        assert_eq!(parsed("0012125550100"), us);
        assert_eq!(parsed("+1 (212) 555-0100"), us);
        assert_eq!(
            parsed("+85223456789"),
            ("+85223456789".to_owned(), CallerKind::International)
        );
    }

    #[test]
    fn withheld_numbers_are_anonymous() {
        for raw in [
            "anonymous",
            "Anonymous",
            "",
            "   ",
            "unknown",
            "abc",
            "sip:anonymous@anonymous.invalid",
            "+",
            "1390371000x",
        ] {
            assert_eq!(
                parsed(raw),
                (String::new(), CallerKind::Anonymous),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn digits_that_fit_no_form_are_unknown() {
        for raw in [
            "12366",
            "123",
            "03710000",
            "1234567890123456789",
            "+860",
            "0037",
        ] {
            assert_eq!(
                CallerNumber::parse(raw).kind(),
                CallerKind::Unknown,
                "{raw}"
            );
        }
        assert_eq!(CallerNumber::parse("12 366").as_str(), "12366");
    }

    #[test]
    fn sip_user_parts_and_uris_are_accepted() {
        assert_eq!(
            parsed("sip:+8613903710000@carrier.example;user=phone"),
            mobile("13903710000")
        );
        assert_eq!(
            parsed("\"Zhang\" <sip:037161234567@192.0.2.1>;tag=1"),
            landline("037161234567")
        );
        assert_eq!(
            parsed("tel:+86-371-6123-4567;phone-context=+86"),
            landline("037161234567")
        );
        assert_eq!(parsed("SIPS:13903710000@h"), mobile("13903710000"));
    }

    #[test]
    fn landline_area_code_is_exposed() {
        let n = CallerNumber::parse("01062345678");
        assert_eq!(n.area_code().unwrap().as_str(), "010");
        assert!(CallerNumber::parse("13903710000").area_code().is_none());
    }

    #[test]
    fn kinds_serialise_as_lowercase() {
        assert_eq!(CallerKind::International.as_str(), "international");
        assert_eq!(CallerKind::Anonymous.to_string(), "anonymous");
    }
}
