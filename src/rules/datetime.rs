//! Date and date-time parsing with declared formats and source time zones.
//!
//! Formats are compiled into chrono items at load time. Output is always
//! ISO 8601: `YYYY-MM-DDTHH:MM:SS±HH:MM` for date-times (keeping the sender's
//! local offset, so both the instant and the local time survive) and
//! `YYYY-MM-DD` for dates.

use chrono::format::{Item, Parsed, StrftimeItems, parse};
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat,
    TimeZone,
};
use chrono_tz::Tz;
use std::sync::LazyLock;

/// A strftime-style format compiled once.
#[derive(Debug, Clone)]
pub(crate) struct Format {
    pub text: String,
    items: Vec<Item<'static>>,
}

impl Format {
    /// Compiles a chrono format string.
    pub fn compile(text: &str) -> Result<Self, String> {
        StrftimeItems::new(text)
            .parse_to_owned()
            .map(|items| Format {
                text: text.to_string(),
                items,
            })
            .map_err(|e| format!("bad date format `{text}`: {e}"))
    }
}

/// How a field's dates are read: declared formats and the sender's zone.
#[derive(Debug, Clone, Default)]
pub(crate) struct DateSpec {
    pub zone: Option<Tz>,
    pub formats: Vec<Format>,
}

/// A parsed value plus an optional warning (e.g. ambiguous local time).
pub(crate) struct ParsedValue {
    pub value: String,
    pub warning: Option<String>,
}

static OFFSET_FORMATS: LazyLock<Vec<Format>> = LazyLock::new(|| {
    compile_all(&[
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
    ])
});
static NAIVE_FORMATS: LazyLock<Vec<Format>> = LazyLock::new(|| {
    compile_all(&[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ])
});
static DATE_FORMATS: LazyLock<Vec<Format>> = LazyLock::new(|| compile_all(&["%Y-%m-%d"]));

fn compile_all(texts: &[&str]) -> Vec<Format> {
    texts
        .iter()
        .filter_map(|t| Format::compile(t).ok())
        .collect()
}

/// What one format made of the input.
enum Reading {
    Offset(DateTime<FixedOffset>),
    Naive(NaiveDateTime),
}

fn read(input: &str, format: &Format) -> Option<Reading> {
    let mut parsed = Parsed::new();
    parse(&mut parsed, input, format.items.iter()).ok()?;
    if parsed.offset().is_some() {
        return parsed.to_datetime().ok().map(Reading::Offset);
    }
    let date = parsed.to_naive_date().ok()?;
    let time = parsed.to_naive_time().unwrap_or(NaiveTime::MIN);
    Some(Reading::Naive(date.and_time(time)))
}

fn first_reading(input: &str, spec: &DateSpec) -> Option<Reading> {
    let declared = spec.formats.iter().find_map(|f| read(input, f));
    if declared.is_some() {
        return declared;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(input) {
        return Some(Reading::Offset(dt));
    }
    let mut defaults = OFFSET_FORMATS
        .iter()
        .chain(NAIVE_FORMATS.iter())
        .chain(DATE_FORMATS.iter());
    defaults.find_map(|f| read(input, f))
}

/// Parses a date-time; naive values are placed in the declared zone.
pub(crate) fn parse_datetime(raw: &str, spec: &DateSpec) -> Result<ParsedValue, String> {
    let input = raw.trim();
    match first_reading(input, spec) {
        Some(Reading::Offset(dt)) => Ok(ParsedValue {
            value: render(dt),
            warning: None,
        }),
        Some(Reading::Naive(naive)) => match spec.zone {
            Some(zone) => localize(raw, naive, zone),
            None => Err(format!(
                "Date-time '{raw}' has no time zone offset and the rule declares no source time zone \
                 (send an offset such as +01:00, or set `timezone` in the rule)"
            )),
        },
        None => Err(format!(
            "'{raw}' is not a recognised date-time{}",
            expected_hint(spec)
        )),
    }
}

fn localize(raw: &str, naive: NaiveDateTime, zone: Tz) -> Result<ParsedValue, String> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Ok(ParsedValue {
            value: render(dt.fixed_offset()),
            warning: None,
        }),
        LocalResult::Ambiguous(first, _) => Ok(ParsedValue {
            value: render(first.fixed_offset()),
            warning: Some(format!(
                "Local time '{raw}' occurs twice in {zone} (clock change); the earlier one was used"
            )),
        }),
        LocalResult::None => Err(format!(
            "Local time '{raw}' does not exist in {zone} (clock change)"
        )),
    }
}

fn render(dt: DateTime<FixedOffset>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Parses a calendar date; a full date-time contributes its local date.
pub(crate) fn parse_date(raw: &str, spec: &DateSpec) -> Result<String, String> {
    let input = raw.trim();
    let date: Option<NaiveDate> = match first_reading(input, spec) {
        Some(Reading::Offset(dt)) => Some(dt.date_naive()),
        Some(Reading::Naive(n)) => Some(n.date()),
        None => None,
    };
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| format!("'{raw}' is not a recognised date{}", expected_hint(spec)))
}

fn expected_hint(spec: &DateSpec) -> String {
    let mut formats: Vec<&str> = spec.formats.iter().map(|f| f.text.as_str()).collect();
    formats.push("ISO 8601, e.g. 2026-03-12T08:00:00+00:00");
    format!(" (expected {})", formats.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin(formats: &[&str]) -> DateSpec {
        DateSpec {
            zone: "Europe/Berlin".parse().ok(),
            formats: formats
                .iter()
                .filter_map(|f| Format::compile(f).ok())
                .collect(),
        }
    }

    #[test]
    fn naive_local_time_gets_the_zone_offset_of_that_day() {
        let summer =
            parse_datetime("2026-05-20 14:00", &berlin(&["%Y-%m-%d %H:%M"])).expect("parses");
        assert_eq!(summer.value, "2026-05-20T14:00:00+02:00");
        let winter = parse_datetime("2026-01-20 14:00", &berlin(&[])).expect("parses");
        assert_eq!(winter.value, "2026-01-20T14:00:00+01:00");
    }

    #[test]
    fn offsets_are_kept_and_naive_without_zone_is_refused() {
        let spec = DateSpec::default();
        let v = parse_datetime("2026-03-12T08:00:00+00:00", &spec).expect("parses");
        assert_eq!(v.value, "2026-03-12T08:00:00+00:00");
        let z = parse_datetime("2026-06-11T09:14:27Z", &spec).expect("parses");
        assert_eq!(z.value, "2026-06-11T09:14:27+00:00");
        let err = parse_datetime("2026-03-12 08:00", &spec)
            .err()
            .unwrap_or_default();
        assert!(err.contains("no time zone"), "{err}");
        assert!(parse_datetime("tomorrow", &spec).is_err());
    }

    #[test]
    fn clock_change_gaps_are_errors_and_overlaps_warn() {
        let spec = berlin(&[]);
        assert!(parse_datetime("2026-03-29 02:30", &spec).is_err());
        let amb = parse_datetime("2026-10-25 02:30", &spec).expect("parses");
        assert!(amb.warning.is_some());
    }

    #[test]
    fn dates_accept_declared_formats() {
        let spec = berlin(&["%d.%m.%Y"]);
        assert_eq!(
            parse_date("20.05.2026", &spec).ok().as_deref(),
            Some("2026-05-20")
        );
        assert_eq!(
            parse_date("2026-05-20", &spec).ok().as_deref(),
            Some("2026-05-20")
        );
        assert!(parse_date("2026-13-40", &spec).is_err());
    }
}
