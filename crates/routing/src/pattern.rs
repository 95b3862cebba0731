//! Number patterns for the numbers a trunk may dial out to, in the notation PBX operators
//! already write (Asterisk's, without the leading `_`): `X` any digit, `Z` 1–9, `N` 2–9,
//! `[1-5]` or `[135]` a set, a digit itself, and at the end `.` (one or more digits) or `!`
//! (zero or more). Whole-number match only: an unanchored regular expression is how a
//! switch gets used for toll fraud, which is why this is not a regex.

use crate::number::CallerKind;
use std::fmt;

/// One position of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// One digit from the set (bit n = digit n).
    Digit(u16),
}

/// A parsed dial pattern, e.g. `1[3-9]XXXXXXXXX` (mobiles) or `0ZXXXXXXXX.` (landlines).
#[derive(Clone, PartialEq, Eq)]
pub struct DialPattern {
    text: String,
    slots: Vec<Slot>,
    /// `.`: at least one more digit of any kind; `!`: any number of them.
    tail: Tail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    Exact,
    OneOrMore,
    ZeroOrMore,
}

impl fmt::Debug for DialPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DialPattern({:?})", self.text)
    }
}

impl fmt::Display for DialPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const ALL_DIGITS: u16 = 0b11_1111_1111;

impl DialPattern {
    /// Parses a pattern; the error says what is wrong in words an operator understands.
    pub fn parse(text: &str) -> Result<DialPattern, String> {
        let mut slots = Vec::new();
        let mut tail = Tail::Exact;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if tail != Tail::Exact {
                return Err(format!("`{text}`: `.` and `!` may only end a pattern"));
            }
            let set = match c {
                '0'..='9' => 1u16 << (c as u16 - '0' as u16),
                'X' | 'x' => ALL_DIGITS,
                'Z' | 'z' => ALL_DIGITS & !1,
                'N' | 'n' => ALL_DIGITS & !0b11,
                '.' => {
                    tail = Tail::OneOrMore;
                    continue;
                }
                '!' => {
                    tail = Tail::ZeroOrMore;
                    continue;
                }
                '[' => {
                    let mut set = 0u16;
                    let mut prev: Option<u32> = None;
                    loop {
                        match chars.next() {
                            Some(']') => break,
                            Some('-') => {
                                let (Some(lo), Some(hi)) =
                                    (prev, chars.next().and_then(|h| h.to_digit(10)))
                                else {
                                    return Err(format!(
                                        "`{text}`: a range needs a digit on each side of `-`"
                                    ));
                                };
                                if hi < lo {
                                    return Err(format!(
                                        "`{text}`: range {lo}-{hi} runs backwards"
                                    ));
                                }
                                for d in lo..=hi {
                                    set |= 1 << d;
                                }
                                prev = None;
                            }
                            Some(d) => match d.to_digit(10) {
                                Some(n) => {
                                    set |= 1 << n;
                                    prev = Some(n);
                                }
                                None => {
                                    return Err(format!(
                                        "`{text}`: `{d}` is not a digit inside [...]"
                                    ))
                                }
                            },
                            None => return Err(format!("`{text}`: `[` is never closed")),
                        }
                    }
                    if set == 0 {
                        return Err(format!("`{text}`: an empty [] matches nothing"));
                    }
                    set
                }
                other => {
                    return Err(format!(
                        "`{text}`: `{other}` is not a digit, X, Z, N, [set], `.` or `!`"
                    ))
                }
            };
            slots.push(Slot::Digit(set));
        }
        if slots.is_empty() {
            return Err(format!(
                "`{text}`: a pattern needs at least one digit position"
            ));
        }
        Ok(DialPattern {
            text: text.to_string(),
            slots,
            tail,
        })
    }

    /// Whether the whole of `number` (digits only) matches.
    pub fn matches(&self, number: &str) -> bool {
        let digits: Vec<u32> = match number.chars().map(|c| c.to_digit(10)).collect() {
            Some(d) => d,
            None => return false,
        };
        if digits.len() < self.slots.len() {
            return false;
        }
        let fixed = self
            .slots
            .iter()
            .zip(&digits)
            .all(|(Slot::Digit(set), d)| set & (1 << d) != 0);
        let extra = digits.len() - self.slots.len();
        fixed
            && match self.tail {
                Tail::Exact => extra == 0,
                Tail::OneOrMore => extra >= 1,
                Tail::ZeroOrMore => true,
            }
    }

    /// Whether some number starting with `prefix` matches (to refuse patterns that would
    /// reach international `00` numbers).
    pub fn admits_prefix(&self, prefix: &str) -> bool {
        let Some(digits) = prefix
            .chars()
            .map(|c| c.to_digit(10))
            .collect::<Option<Vec<u32>>>()
        else {
            return false;
        };
        digits
            .iter()
            .enumerate()
            .all(|(i, d)| match self.slots.get(i) {
                Some(Slot::Digit(set)) => set & (1 << d) != 0,
                None => self.tail != Tail::Exact,
            })
    }
}

/// Whether `number` is a domestic number a call out may go to: a mobile (`1`…, 11 digits) or
/// a landline with its area code (`0` then not `0`). International (`00`) never is.
/// The caller-id rules decide, so a number is domestic exactly when it would route as a
/// mobile (`1` then 3–9) or a landline of a known area code, written as dialled.
pub fn is_domestic(number: &str) -> bool {
    let n = crate::number::CallerNumber::parse(number);
    matches!(n.kind(), CallerKind::Mobile | CallerKind::Landline) && n.as_str() == number
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mobiles_and_landlines() {
        let mobile = DialPattern::parse("1[3-9]XXXXXXXXX").unwrap();
        assert!(mobile.matches("13903790000"));
        assert!(!mobile.matches("12903790000"));
        assert!(!mobile.matches("1390379000"));
        assert!(!mobile.matches("139037900001"));
        let landline = DialPattern::parse("0ZXXXXXXXX.").unwrap();
        assert!(landline.matches("037961234567"));
        assert!(landline.matches("03796123456"));
        assert!(!landline.matches("0379612345"));
        assert!(!landline.matches("0012025550100"));
        assert!(landline.admits_prefix("03"));
        assert!(!landline.admits_prefix("00"));
        assert!(DialPattern::parse("0.").unwrap().admits_prefix("00"));
        assert!(DialPattern::parse("X!").unwrap().matches("7"));
        assert!(DialPattern::parse("[135]N").unwrap().matches("52"));
        assert!(!DialPattern::parse("[135]N").unwrap().matches("51"));
    }

    #[test]
    fn bad_patterns_say_why() {
        for bad in [
            "", "1.2", "1[3-", "1[a]", "1[]", "1[9-3]", "1Y", "+86", "[-3]",
        ] {
            let e = DialPattern::parse(bad).unwrap_err();
            assert!(e.contains('`'), "{bad}: {e}");
        }
    }

    #[test]
    fn domestic_numbers() {
        assert!(is_domestic("13903790000"));
        assert!(is_domestic("037961234567"));
        assert!(!is_domestic("0012025550100"));
        assert!(!is_domestic("110"));
        assert!(!is_domestic("1390379000a"));
        // Not numbers anyone can be called on: service codes, a written-out trunk prefix.
        assert!(!is_domestic("12366123456"));
        assert!(!is_domestic("10086123456"));
        assert!(!is_domestic("013903790000"));
    }

    proptest! {
        #[test]
        fn parsing_and_matching_never_panic(p in "\\PC{0,12}", n in "\\PC{0,16}") {
            if let Ok(pattern) = DialPattern::parse(&p) {
                let _ = pattern.matches(&n);
                let _ = pattern.admits_prefix(&n);
            }
        }

        #[test]
        fn a_literal_pattern_matches_exactly_itself(n in "[0-9]{1,15}", m in "[0-9]{1,15}") {
            let pattern = DialPattern::parse(&n).unwrap();
            prop_assert!(pattern.matches(&n));
            prop_assert_eq!(pattern.matches(&m), n == m);
        }
    }
}
