//! Confidentiality (严格保密): a whistle-blower's number is shown only to readers cleared
//! for it; everyone else sees it masked.

/// A caller number with its middle hidden: `13903790000` → `139****0000`, keeping at most
/// the first three and the last four characters (fewer for short numbers, so something is
/// always hidden).
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = match n {
        0..=4 => (0, 0),
        5..=7 => (1, 2),
        _ => (3.min(n), 4.min(n)),
    };
    let start: String = chars.iter().take(head).collect();
    let end: String = chars.iter().skip(n.saturating_sub(tail)).collect();
    // Always four stars, so the mask does not tell how long the number was.
    format!("{start}****{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_keeps_its_segment_head_and_last_four() {
        assert_eq!(mask_number("13903790000"), "139****0000");
        assert_eq!(mask_number("+8613903790000"), "+86****0000");
        assert_eq!(mask_number("110"), "****");
        assert_eq!(mask_number("61234"), "6****34");
        assert_eq!(mask_number(""), "");
    }
}
