//! The dialplan's numbering: cities, area codes and number prefixes, each claimed by one
//! region only and inside the province.

use toml::Spanned;

use super::{is_digits, Checker, Seen};
use crate::area_code::AreaCode;
use crate::diagnostic::Problem;

/// Longest landline prefix: `0` + area code + an 8-digit local number.
const MAX_PREFIX_DIGITS: usize = 12;

impl Checker<'_> {
    pub(super) fn city(&mut self, city: &Spanned<String>, owner: &str, cities: &mut Seen<String>) {
        let name = city.get_ref();
        if let Some(table) = self.table {
            match (table.province_of_city(name), &self.province) {
                (None, _) => self.report(&city.span(), Problem::UnknownCity(name.clone())),
                (Some(actual), Some(province)) if actual != province => {
                    let problem = out_of_province(name, actual, province);
                    self.report(&city.span(), problem);
                }
                _ => {}
            }
        }
        if let Some((other, first_line)) = cities.get(name) {
            let problem = Problem::DuplicateCity {
                city: name.clone(),
                other: other.clone(),
                first_line: *first_line,
            };
            self.report(&city.span(), problem);
            return;
        }
        let line = self.line(&city.span());
        cities.insert(name.clone(), (owner.to_owned(), line));
    }

    /// An area code, checked for form and province.
    pub(super) fn area_code(&mut self, code: &Spanned<String>) -> Option<AreaCode> {
        let Some(area) = AreaCode::parse(code.get_ref()) else {
            self.report(&code.span(), Problem::BadAreaCode(code.get_ref().clone()));
            return None;
        };
        self.in_province(code, area);
        Some(area)
    }

    /// Whether `prefix` is a well-formed landline prefix (reported if not).
    pub(super) fn prefix(&mut self, prefix: &Spanned<String>) -> bool {
        let text = prefix.get_ref();
        let area =
            AreaCode::leading(text).filter(|_| is_digits(text) && text.len() <= MAX_PREFIX_DIGITS);
        match area {
            Some(area) => {
                self.in_province(prefix, area);
                true
            }
            None => {
                self.report(&prefix.span(), Problem::BadPrefix(text.clone()));
                false
            }
        }
    }

    /// Reports an area code (or prefix) the segment table places in another province.
    pub(super) fn in_province(&mut self, at: &Spanned<String>, area: AreaCode) {
        let actual = self.table.and_then(|t| t.area(&area)).map(|a| &a.province);
        if let (Some(actual), Some(province)) = (actual, &self.province) {
            if **actual != **province {
                let problem = out_of_province(at.get_ref(), actual, province);
                self.report(&at.span(), problem);
            }
        }
    }

    pub(super) fn claim(
        &mut self,
        prefix: &Spanned<String>,
        owner: &str,
        claims: &mut Seen<String>,
    ) {
        let text = prefix.get_ref();
        if let Some((other, first_line)) = claims.get(text) {
            let problem = Problem::DuplicatePrefix {
                prefix: text.clone(),
                other: other.clone(),
                first_line: *first_line,
            };
            self.report(&prefix.span(), problem);
            return;
        }
        let line = self.line(&prefix.span());
        claims.insert(text.clone(), (owner.to_owned(), line));
    }
}

fn out_of_province(name: &str, actual: &str, province: &str) -> Problem {
    Problem::OutOfProvince {
        name: name.to_owned(),
        actual: actual.to_owned(),
        province: province.to_owned(),
    }
}
