//! Byte quantities as users write them in Cargo.toml and partition tables:
//! `4096`, `0x1000`, `"64K"`, `"1 MiB"`, `"1.5 MiB"`.

use std::fmt;

/// Why a byte quantity did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a byte size ({reason}); write e.g. `4096`, `0x1000`, `\"64 KiB\"` or `\"1 MiB\"`"
)]
pub struct ByteSizeError {
    pub text: String,
    pub reason: &'static str,
}

/// Parses a byte size. Suffixes are binary (K = KiB = 1024), as in embedded
/// partition tables; `KB`/`MB` are accepted as the same binary units because
/// that is what W800 and ESP-IDF tables mean by them.
pub fn parse_byte_size(text: &str) -> Result<u64, ByteSizeError> {
    let err = |reason| ByteSizeError {
        text: text.to_owned(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err("it is empty"));
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).map_err(|_| err("bad hexadecimal number"));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(err("unknown unit; use B, KiB, MiB or GiB")),
    };
    let number = number.replace('_', "");
    if number.is_empty() {
        return Err(err("no number before the unit"));
    }
    if let Some((whole, frac)) = number.split_once('.') {
        // Fractions only make sense with a unit, and must land on a whole byte.
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err("bad number"))?
        };
        let digits = frac.len() as u32;
        let frac_value: u64 = frac.parse().map_err(|_| err("bad number"))?;
        let scale = 10u64
            .checked_pow(digits)
            .ok_or_else(|| err("too many decimals"))?;
        let frac_bytes = (frac_value as u128 * multiplier as u128) / scale as u128;
        if !(frac_value as u128 * multiplier as u128).is_multiple_of(scale as u128) {
            return Err(err("it is not a whole number of bytes"));
        }
        let total = whole as u128 * multiplier as u128 + frac_bytes;
        return u64::try_from(total).map_err(|_| err("too large"));
    }
    let value: u64 = number.parse().map_err(|_| err("bad number"))?;
    value
        .checked_mul(multiplier)
        .ok_or_else(|| err("too large"))
}

/// Displays a byte count the way the reports do: `1,138,688 B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{grouped} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_hex_and_units() {
        assert_eq!(parse_byte_size("4096"), Ok(4096));
        assert_eq!(parse_byte_size("0x1000"), Ok(4096));
        assert_eq!(parse_byte_size("0XAF000"), Ok(0xAF000));
        assert_eq!(parse_byte_size("64K"), Ok(65536));
        assert_eq!(parse_byte_size("64 KiB"), Ok(65536));
        assert_eq!(parse_byte_size("1 MiB"), Ok(1_048_576));
        assert_eq!(parse_byte_size("1M"), Ok(1_048_576));
        assert_eq!(parse_byte_size("1.5 MiB"), Ok(1_572_864));
        assert_eq!(parse_byte_size("1_000"), Ok(1000));
        assert_eq!(parse_byte_size("2 GiB"), Ok(2 << 30));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "MiB",
            "12 parsecs",
            "0xZZ",
            "1.0000001 KiB",
            "99999999999999999999",
            "1.5",
        ] {
            assert!(parse_byte_size(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(Bytes(1_138_688).to_string(), "1,138,688 B");
        assert_eq!(Bytes(999).to_string(), "999 B");
        assert_eq!(Bytes(0).to_string(), "0 B");
    }
}
