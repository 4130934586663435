//! Settings that are more than a number or a word, parsed once when the
//! configuration loads: byte sizes (`5MB`), CIDR lists and duration lists. Each
//! accepts the friendly string form (what an environment variable holds) and, in
//! TOML, the plain number or array too.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;

/// Parses `5MB`, `512 KiB`, `1048576` or `1.5mb`: decimal (kB, MB, GB) and binary
/// (KiB, MiB, GiB) units, case-insensitive, `B` optional.
pub fn parse_byte_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as `5MB` or `1048576`"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` is not a size unit; use B, kB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = number * factor;
    if !bytes.is_finite() || bytes < 0.0 || bytes > usize::MAX as f64 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(bytes.round() as usize)
}

/// Parses comma-separated CIDRs such as `10.0.0.0/8,fd00::/8`.
pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_network)
        .collect()
}

fn parse_network(text: &str) -> Result<IpNet, String> {
    text.trim()
        .parse::<IpNet>()
        .map_err(|e| format!("`{text}` is not a CIDR network: {e}"))
}

/// Parses comma-separated durations such as `0s,5s,5m,2h`; at least one.
pub fn parse_durations(text: &str) -> Result<Vec<Duration>, String> {
    let delays = text
        .split(',')
        .map(str::trim)
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if delays.is_empty() {
        return Err("the schedule needs at least one attempt".into());
    }
    Ok(delays)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("`{text}`: {e}"))
}

/// Serde adapter for a byte size given as a number or a string with a unit.
pub mod byte_size {
    use super::*;

    pub fn serialize<S: Serializer>(value: &usize, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(*value as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
        struct Size;
        impl Visitor<'_> for Size {
            type Value = usize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size in bytes such as `5MB`, `512KiB` or `1048576`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<usize, E> {
                usize::try_from(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<usize, E> {
                usize::try_from(v).map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
                parse_byte_size(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Size)
    }
}

/// Collects a list given as one comma-separated string or as a sequence of strings.
fn list<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    whole: fn(&str) -> Result<Vec<T>, String>,
    one: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
{
    struct List<T> {
        expecting: &'static str,
        whole: fn(&str) -> Result<Vec<T>, String>,
        one: fn(&str) -> Result<T, String>,
    }
    impl<'de, T> Visitor<'de> for List<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
            (self.whole)(v).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                out.push((self.one)(&text).map_err(de::Error::custom)?);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_any(List {
        expecting,
        whole,
        one,
    })
}

/// Parses comma-separated ports and port ranges such as `80,443,1024-65535`.
pub fn parse_port_ranges(text: &str) -> Result<Vec<(u16, u16)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_port_range)
        .collect()
}

fn parse_port_range(text: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                format!("`{text}` is not a port (1 to 65535) or a range such as `1024-65535`")
            })
    };
    match text.split_once('-') {
        Some((low, high)) => {
            let (low, high) = (port(low)?, port(high)?);
            if low > high {
                return Err(format!("`{text}`: the range ends before it starts"));
            }
            Ok((low, high))
        }
        None => {
            let one = port(text)?;
            Ok((one, one))
        }
    }
}

/// Serde adapter for a port list (`80,443,1024-65535` or an array).
pub mod port_ranges {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &[(u16, u16)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = value
            .iter()
            .map(|(low, high)| {
                if low == high {
                    low.to_string()
                } else {
                    format!("{low}-{high}")
                }
            })
            .collect();
        serializer.serialize_str(&text.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(u16, u16)>, D::Error> {
        list(
            deserializer,
            "comma-separated ports and ranges such as `80,443,1024-65535`",
            parse_port_ranges,
            parse_port_range,
        )
    }
}

/// Serde adapter for a CIDR list (`10.0.0.0/8,fd00::/8` or an array).
pub mod networks {
    use super::*;

    pub fn serialize<S: Serializer>(value: &[IpNet], serializer: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = value.iter().map(IpNet::to_string).collect();
        serializer.serialize_str(&text.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
        list(
            deserializer,
            "comma-separated CIDRs such as `10.0.0.0/8,fd00::/8`",
            parse_networks,
            parse_network,
        )
    }
}

/// Serde adapter for a list of delays (`0s,5s,5m` or an array).
pub mod durations {
    use super::*;

    pub fn serialize<S: Serializer>(value: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = value
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect();
        serializer.serialize_str(&text.join(","))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        let delays = list(
            deserializer,
            "comma-separated durations such as `0s,5s,5m,2h`",
            parse_durations,
            parse_duration,
        )?;
        if delays.is_empty() {
            return Err(de::Error::custom("the schedule needs at least one attempt"));
        }
        Ok(delays)
    }
}

/// The accepted name closest to `unknown`, when one is close enough to be a typo.
pub fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(unknown, k), *k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_byte_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_byte_size("5 MiB"), Ok(5 * 1024 * 1024));
        assert_eq!(parse_byte_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_byte_size("1.5kb"), Ok(1_500));
        assert!(parse_byte_size("5 parsecs").unwrap_err().contains("MiB"));
        assert!(parse_byte_size("lots").is_err());
    }

    #[test]
    fn lists_parse_once_and_name_the_bad_entry() {
        assert_eq!(parse_networks("10.0.0.0/8, fd00::/8").unwrap().len(), 2);
        assert!(parse_networks("").unwrap().is_empty());
        assert!(
            parse_networks("10.0.0.0/8,nope")
                .unwrap_err()
                .contains("`nope`")
        );
        assert_eq!(
            parse_durations("0s,5s,5m").unwrap(),
            vec![
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_secs(300)
            ]
        );
        assert!(parse_durations("5s,soon").unwrap_err().contains("`soon`"));
    }

    #[test]
    fn a_misspelt_key_finds_its_closest_name() {
        let known = ["max_body_bytes", "listen", "rules_dir"];
        assert_eq!(closest("max_body_byte", &known), Some("max_body_bytes"));
        assert_eq!(closest("lisen", &known), Some("listen"));
        assert_eq!(closest("completely_different", &known), None);
    }
}
