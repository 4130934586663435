//! Endpoint management shared by REST and GraphQL: one validation, one way to
//! create and rotate.

use crate::store::gate::Write;
use chrono::Duration;
use serde::Deserialize;

use super::signer::WebhookSecret;
use super::ssrf::Guard;
use crate::config::Config;
use crate::domain::{EventType, Slug};
use crate::error::{Error, Result};
use crate::store::entities::webhook_endpoint;
use crate::store::webhooks::{self, EndpointFields};

/// What a client sends to create or change an endpoint; unknown fields are refused
/// so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
}

/// Checks a request: the URL against the SSRF guard, event types and facility slugs.
pub async fn validate(config: &Config, request: EndpointRequest) -> Result<EndpointFields> {
    check_sizes(&request)?;
    let url = match request.url {
        Some(url) => {
            let guard = Guard::from_config(config);
            Some(
                guard
                    .check_url(&url)
                    .await
                    .map_err(|e| Error::invalid_field("$.url", e))?
                    .to_string(),
            )
        }
        None => None,
    };
    for (i, t) in request.event_types.iter().flatten().enumerate() {
        if EventType::parse(t).is_none() {
            return Err(Error::invalid_field(
                format!("$.event_types[{i}]"),
                format!(
                    "unknown event type `{t}`; known types are {}",
                    EventType::names().join(", ")
                ),
            ));
        }
    }
    for (i, f) in request.facilities.iter().flatten().enumerate() {
        Slug::parse(f).map_err(|e| Error::invalid_field(format!("$.facilities[{i}]"), e))?;
    }
    Ok(EndpointFields {
        url,
        description: request.description.map(Some),
        event_types: request.event_types.map(Some),
        facilities: request.facilities.map(Some),
        party: None,
    })
}

/// Longest accepted target URL (what browsers and proxies reliably carry).
const MAX_URL_CHARS: usize = 2048;
const MAX_DESCRIPTION_CHARS: usize = 1024;
const MAX_FACILITIES: usize = 1000;

/// Bounds what is stored: URL and description length, no control characters in
/// the description, no event type or facility listed twice.
fn check_sizes(request: &EndpointRequest) -> Result<()> {
    if let Some(url) = &request.url
        && url.chars().count() > MAX_URL_CHARS
    {
        return Err(Error::invalid_field(
            "$.url",
            format!("the URL is longer than {MAX_URL_CHARS} characters"),
        ));
    }
    if let Some(description) = &request.description {
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid_field(
                "$.description",
                format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        if description
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Error::invalid_field(
                "$.description",
                "the description holds a control character",
            ));
        }
    }
    if request
        .facilities
        .as_ref()
        .is_some_and(|f| f.len() > MAX_FACILITIES)
    {
        return Err(Error::invalid_field(
            "$.facilities",
            format!("at most {MAX_FACILITIES} facilities"),
        ));
    }
    for (field, list) in [
        ("event_types", &request.event_types),
        ("facilities", &request.facilities),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::invalid_field(
                format!("$.{field}"),
                format!(
                    "an empty list would let no event through; leave `{field}` out (or null) \
                     for every {}",
                    if field == "facilities" {
                        "facility"
                    } else {
                        "event type"
                    }
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, item) in list.iter().flatten().enumerate() {
            if !seen.insert(item) {
                return Err(Error::invalid_field(
                    format!("$.{field}[{i}]"),
                    format!(
                        "`{}` is listed twice",
                        item.chars().take(64).collect::<String>()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Registers a validated endpoint with a new secret.
pub async fn create(
    db: &impl Write,
    business_id: i64,
    fields: EndpointFields,
) -> Result<webhook_endpoint::Model> {
    let url = fields
        .url
        .clone()
        .ok_or_else(|| Error::invalid_field("$.url", "Missing required field: url"))?;
    let secret = WebhookSecret::generate();
    webhooks::create(db, business_id, url, fields, secret.expose()).await
}

/// The longest an old secret may keep signing beside the new one: 30 days.
pub const MAX_OVERLAP_SECS: u64 = 30 * 24 * 3600;

/// Gives the endpoint a new secret; the old one signs beside it for `overlap_secs`
/// (at most 30 days: more is refused), or the configured default (capped there).
pub async fn rotate(
    db: &impl Write,
    config: &Config,
    endpoint: webhook_endpoint::Model,
    overlap_secs: Option<u64>,
) -> Result<webhook_endpoint::Model> {
    if let Some(asked) = overlap_secs
        && asked > MAX_OVERLAP_SECS
    {
        return Err(Error::invalid_field(
            "$.overlap_secs",
            format!("{asked} seconds is more than 30 days ({MAX_OVERLAP_SECS} seconds)"),
        ));
    }
    let secs = overlap_secs
        .unwrap_or(config.webhooks_secret_overlap_secs)
        .min(MAX_OVERLAP_SECS);
    let secret = WebhookSecret::generate();
    webhooks::rotate(
        db,
        endpoint,
        secret.expose(),
        Duration::seconds(secs as i64),
    )
    .await
}
