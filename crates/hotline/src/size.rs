//! Byte sizes as operators write them: `1GiB`, `500MiB`, `2G`, `1048576`.

/// Parses a size: a whole number with an optional binary unit (B, K/KiB, M/MiB, G/GiB,
/// T/TiB); `k`, `m`, `g`, `t` count in 1024s too, because disks are counted that way here.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().map_err(|_| {
        format!("{text:?}: a size is a whole number with an optional unit, e.g. 1GiB")
    })?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?}; use B, KiB, MiB, GiB or TiB"
            ))
        }
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_operators_write_them() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("2 tib"), Ok(2 << 40));
    }

    #[test]
    fn the_serve_default_is_the_recorders_default() {
        assert_eq!(
            parse_size(crate::DEFAULT_MIN_FREE_DISK),
            Ok(hotline_record::DEFAULT_MIN_FREE_DISK)
        );
    }

    #[test]
    fn a_size_that_makes_no_sense_is_refused() {
        assert!(parse_size("").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("1PiB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}
