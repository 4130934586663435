//! GraphQL object types: thin wrappers around store models.

pub mod enums;
pub mod facility;
pub mod filters;
pub mod order;
pub mod push;
pub mod shipment;

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};

use crate::error::Error;

/// A timestamp as the API writes it: ISO 8601 in UTC, e.g. `2026-11-22T08:30:00Z`.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An optional timestamp in API form.
pub fn iso_opt(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(iso)
}

/// Parses an ISO 8601 timestamp with offset, or a bare date (midnight UTC).
pub fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|date| date.and_time(NaiveTime::MIN).and_utc())
        .map_err(|_| {
            Error::invalid_field(
                field,
                format!(
                    "`{value}` is not an ISO 8601 timestamp with offset (2026-11-22T08:30:00Z) or a date (2026-11-22)"
                ),
            )
        })
}

/// Parses an optional timestamp argument.
pub fn parse_time_opt(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    value.map(|v| parse_time(field, v)).transpose()
}

/// Parses an optional calendar date (`2026-11-22`).
pub fn parse_date_opt(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, Error> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                Error::invalid_field(field, format!("`{v}` is not a date like 2026-11-22"))
            })
        })
        .transpose()
}
