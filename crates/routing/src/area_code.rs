//! Chinese landline area codes (来电区号): `010` and `020`–`029` have three digits, every
//! other `0xxx` four, so the length is known from the first digits alone.

use std::fmt;

use serde::{Serialize, Serializer};

/// A landline area code with its trunk `0`, e.g. `0371`. `Copy` and allocation-free, since
/// routing builds one per call.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode {
    digits: [u8; 4],
    len: u8,
}

impl AreaCode {
    /// The area code if `code` is exactly one (`"0371"`, `"010"`), else `None`.
    pub fn parse(code: &str) -> Option<AreaCode> {
        let area = AreaCode::leading(code)?;
        (usize::from(area.len) == code.len()).then_some(area)
    }

    /// The area code a national number such as `037161234567` begins with.
    pub fn leading(number: &str) -> Option<AreaCode> {
        let bytes = number.as_bytes();
        let len = AreaCode::length_of(bytes)?;
        let head = bytes.get(..len)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut digits = [0u8; 4];
        digits.get_mut(..len)?.copy_from_slice(head);
        Some(AreaCode {
            digits,
            len: u8::try_from(len).ok()?,
        })
    }

    /// How many digits the area code at the start of `number` has, from its first digits.
    fn length_of(number: &[u8]) -> Option<usize> {
        match number {
            [b'0', b'0', ..] => None, // an international prefix, not an area code
            [b'0', b'1', b'0', ..] | [b'0', b'2', ..] => Some(3),
            [b'0', _, ..] => Some(4),
            _ => None,
        }
    }

    /// The code with its leading `0`.
    pub fn as_str(&self) -> &str {
        let digits = self.digits.get(..usize::from(self.len)).unwrap_or(&[]);
        std::str::from_utf8(digits).unwrap_or("")
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AreaCode({})", self.as_str())
    }
}

impl Serialize for AreaCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_and_the_02x_cities_have_three_digit_codes() {
        assert_eq!(AreaCode::parse("010").unwrap().as_str(), "010");
        assert_eq!(AreaCode::parse("027").unwrap().as_str(), "027");
        assert_eq!(AreaCode::leading("01062345678").unwrap().as_str(), "010");
        assert_eq!(AreaCode::leading("02088888888").unwrap().as_str(), "020");
    }

    #[test]
    fn other_area_codes_have_four_digits() {
        assert_eq!(AreaCode::parse("0371").unwrap().as_str(), "0371");
        assert_eq!(AreaCode::leading("037161234567").unwrap().as_str(), "0371");
        assert!(AreaCode::parse("037").is_none());
        assert!(AreaCode::parse("03712").is_none());
    }

    #[test]
    fn an_international_prefix_is_not_an_area_code() {
        assert!(AreaCode::parse("0012").is_none());
        assert!(AreaCode::leading("0012125550100").is_none());
        assert!(AreaCode::parse("371").is_none());
        assert!(AreaCode::parse("03a1").is_none());
        assert!(AreaCode::parse("").is_none());
    }
}
