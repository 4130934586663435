//! The operator's view over GraphQL, on the same use cases as the REST API: received
//! payloads and their records, reprocessing, deliveries across endpoints and their
//! bulk replay, test events, the event-type catalogue and the rules status.
//! Listings page like the REST ones: `first` and `after`, answered with `items`
//! and `nextCursor`.

use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject};
use serde_json::Value;

use super::context::{principal, state, who};
use super::types::{iso, parse_time};
use super::webhooks::WebhookDelivery;
use crate::app::ingest::{self as ingest_case, Reprocessed};
use crate::app::webhooks as webhook_case;
use crate::domain::{DeliveryState, EndpointId, EventType, Scope, public_id};
use crate::error::Error;
use crate::store::listing::Page;

/// Most rows one page may hold, and rows per page when `first` is not given.
const MAX_PAGE: i32 = 200;
const DEFAULT_PAGE: i32 = 50;
/// Longest text a filter field may hold.
const MAX_FILTER_CHARS: usize = 256;

fn page(first: Option<i32>, after: Option<String>) -> Result<Page, Error> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(Error::invalid_field(
            "first",
            format!("`first` must be between 1 and {MAX_PAGE}, not {first}"),
        ));
    }
    let after = after
        .map(|a| {
            crate::app::cursor_row(&a).ok_or_else(|| {
                Error::invalid_field(
                    "after",
                    "`after` is not a cursor this API gave out (use `nextCursor`)",
                )
            })
        })
        .transpose()?;
    Ok(Page {
        after,
        limit: first as u64,
    })
}

/// A text filter: empty means none; NUL characters and over-long text are refused.
fn text(field: &str, value: Option<String>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.contains('\0') => Err(Error::invalid_field(
            format!("filter.{field}"),
            "must not contain a NUL character",
        )),
        Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(Error::invalid_field(
            format!("filter.{field}"),
            format!("is longer than {MAX_FILTER_CHARS} characters"),
        )),
        Some(v) => Ok(Some(v)),
    }
}

fn time(
    field: &str,
    value: Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
    value
        .map(|v| parse_time(&format!("filter.{field}"), &v))
        .transpose()
}

/// What became of a payload.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PayloadOutcome {
    Accepted,
    AcceptedWithWarnings,
    PartiallyAccepted,
    Rejected,
}

impl From<PayloadOutcome> for ingest_case::Outcome {
    fn from(o: PayloadOutcome) -> Self {
        match o {
            PayloadOutcome::Accepted => Self::Accepted,
            PayloadOutcome::AcceptedWithWarnings => Self::AcceptedWithWarnings,
            PayloadOutcome::PartiallyAccepted => Self::PartiallyAccepted,
            PayloadOutcome::Rejected => Self::Rejected,
        }
    }
}

/// Which payloads to list; every field optional, all combined.
#[derive(InputObject, Default)]
pub struct PayloadFilter {
    pub outcome: Option<PayloadOutcome>,
    pub rule: Option<String>,
    /// A problem code in the answer (the refusal's or an item's error).
    pub code: Option<String>,
    /// The name of the key that sent it.
    pub key: Option<String>,
    /// `rest`, `graphql` or `reprocess`.
    pub source: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<String>,
    /// Received before (RFC 3339).
    pub until: Option<String>,
    /// Text in a reference the answer names (shipment or order number, …).
    pub reference: Option<String>,
}

/// A received payload as listed; its body and answer are in `payload(loggingId)`.
#[derive(SimpleObject)]
pub struct PayloadSummary {
    pub logging_id: String,
    pub received_at: String,
    pub content_type: String,
    /// The rule of the first item a rule matched.
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    /// `accepted`, `accepted_with_warnings`, `partially_accepted` or `rejected`.
    pub outcome: String,
    /// The answer's problem codes, each once.
    pub problem_codes: Vec<String>,
    /// The references its items name, each once.
    pub references: Vec<String>,
    pub key: Option<String>,
    pub source: Option<String>,
    pub reprocess_of: Option<String>,
}

impl From<ingest_case::PayloadSummary> for PayloadSummary {
    fn from(p: ingest_case::PayloadSummary) -> Self {
        Self {
            logging_id: p.logging_id,
            received_at: iso(p.received_at),
            content_type: p.content_type,
            rule: p.rule,
            operation: p.operation,
            entity: p.entity,
            outcome: p.outcome,
            problem_codes: p.problem_codes,
            references: p.references,
            key: p.key,
            source: p.source,
            reprocess_of: p.reprocess_of,
        }
    }
}

/// A page of payloads, newest first.
#[derive(SimpleObject)]
pub struct PayloadPage {
    pub items: Vec<PayloadSummary>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The record of a received payload: the body as received and the answer sent.
#[derive(SimpleObject)]
pub struct PayloadRecord {
    pub logging_id: String,
    pub received_at: String,
    pub content_type: String,
    pub body_sha256: String,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    pub outcome: String,
    /// The answer sent, as `POST /v1/ingest` gave it.
    pub response: Option<Json<Value>>,
    pub key: Option<String>,
    pub source: Option<String>,
    pub reprocess_of: Option<String>,
}

/// What a reprocess did.
#[derive(SimpleObject)]
pub struct ReprocessResult {
    /// The HTTP status `POST /v1/ingest/{loggingId}/reprocess` answers with.
    pub status: i32,
    /// The new record's logging id; null for a dry run.
    pub logging_id: Option<String>,
    /// With `dryRun`: the explanation; otherwise the acknowledgement.
    pub answer: Json<Value>,
}

/// Which deliveries to list or replay; every field optional, all combined.
#[derive(InputObject, Default)]
pub struct DeliveryFilter {
    /// `pending`, `delivered` or `failed` (dead letters). Replay takes `failed`
    /// (the default) or `delivered`.
    pub state: Option<String>,
    /// Only this endpoint's.
    pub endpoint_id: Option<i64>,
    pub event_type: Option<String>,
    /// Written at or after (RFC 3339).
    pub since: Option<String>,
    /// Written before (RFC 3339).
    pub until: Option<String>,
}

impl DeliveryFilter {
    fn into_case(self) -> Result<webhook_case::DeliveryFilter> {
        use sea_orm::Iterable;
        let state = self
            .state
            .map(|s| {
                DeliveryState::iter()
                    .find(|known| known.as_str() == s)
                    .ok_or_else(|| {
                        Error::invalid_field(
                            "filter.state",
                            format!(
                                "`{}` is not a delivery state: pending, delivered or failed",
                                s.escape_debug()
                            ),
                        )
                    })
            })
            .transpose()?;
        let event_type = text("eventType", self.event_type)?;
        if let Some(detail) = event_type
            .as_deref()
            .and_then(webhook_case::unknown_event_type)
        {
            return Err(Error::invalid_field("filter.eventType", detail).into());
        }
        Ok(webhook_case::DeliveryFilter {
            endpoint: self.endpoint_id.map(public_id::internal),
            state,
            event_type,
            since: time("since", self.since)?,
            until: time("until", self.until)?,
        })
    }
}

/// A page of deliveries, newest first.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An endpoint's health over the last 24 hours.
#[derive(SimpleObject)]
pub struct WebhookEndpointHealth {
    pub window_hours: i32,
    pub attempts: u64,
    /// Attempts answered 2xx.
    pub delivered: u64,
    /// `delivered / attempts`; null without attempts.
    pub success_rate: Option<f64>,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    /// The first failed attempt after the last success, while it keeps failing.
    pub failing_since: Option<String>,
    /// Deliveries waiting for an attempt.
    pub backlog: u64,
    /// Deliveries given up, until replayed or recovered.
    pub dead_letters: u64,
}

impl From<crate::store::webhooks::Health> for WebhookEndpointHealth {
    fn from(h: crate::store::webhooks::Health) -> Self {
        Self {
            window_hours: webhook_case::HEALTH_WINDOW_HOURS as i32,
            attempts: h.attempts,
            delivered: h.delivered,
            success_rate: (h.attempts > 0).then(|| h.delivered as f64 / h.attempts as f64),
            last_success_at: h.last_success_at.map(iso),
            last_failure_at: h.last_failure_at.map(iso),
            failing_since: h.failing_since.map(iso),
            backlog: h.backlog,
            dead_letters: h.dead_letters,
        }
    }
}

/// One event type an endpoint can subscribe to.
#[derive(SimpleObject)]
pub struct WebhookEventType {
    /// The name, as in `webhookEndpoint.eventTypes` and a push's `type`.
    pub name: String,
    /// When it is published.
    pub description: String,
    /// A push body of this type, built by the code that builds real ones.
    pub example: Json<Value>,
}

/// One reload of the rules directory.
#[derive(SimpleObject)]
pub struct RulesReload {
    pub at: String,
    /// False when a file was broken: the previous rules stay in use.
    pub ok: bool,
    /// What was wrong, with file and line.
    pub errors: Vec<String>,
}

/// The rules in use and how the last reload went.
#[derive(SimpleObject)]
pub struct RulesStatus {
    /// A hash of the files' names and contents: the same files give the same
    /// version on every instance.
    pub version: String,
    pub rules: u64,
    /// Their files, in load order.
    pub files: Vec<String>,
    pub loaded_at: String,
    /// Doubtful but usable rules (ties, shadowed rules).
    pub warnings: Vec<String>,
    /// The last reload since start-up, if any.
    pub last_reload: Option<RulesReload>,
}

/// Queries of the operator's view.
#[derive(Default)]
pub struct OperatorQueries;

#[Object]
impl OperatorQueries {
    /// The business's received payloads, newest first (scope `ingest` or `read`):
    /// what failed in the last hour is `filter: {outcome: REJECTED, since: …}`.
    async fn payloads(
        &self,
        ctx: &Context<'_>,
        filter: Option<PayloadFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PayloadPage> {
        let who = who(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = ingest_case::PayloadFilter {
            outcome: f.outcome.map(Into::into),
            rule: text("rule", f.rule)?,
            code: text("code", f.code)?,
            key: text("key", f.key)?,
            source: text("source", f.source)?,
            since: time("since", f.since)?,
            until: time("until", f.until)?,
            reference: text("reference", f.reference)?,
        };
        if let Some((field, detail)) = filter.problem() {
            return Err(Error::invalid_field(format!("filter.{field}"), detail).into());
        }
        let page = page(first, after)?;
        let listing = ingest_case::list(state(ctx)?, who, filter, page).await?;
        Ok(PayloadPage {
            items: listing.items.into_iter().map(Into::into).collect(),
            next_cursor: listing.next_cursor,
        })
    }

    /// The record of one received payload (scope `ingest` or `read`).
    async fn payload(&self, ctx: &Context<'_>, logging_id: String) -> Result<PayloadRecord> {
        let who = who(ctx)?;
        let ingest_case::PayloadRecord {
            record,
            body,
            response,
            key,
        } = ingest_case::record(state(ctx)?, who, logging_id).await?;
        Ok(PayloadRecord {
            logging_id: record.logging_id,
            received_at: iso(record.received_at),
            content_type: record.content_type,
            body_sha256: record.body_sha256,
            body,
            rule: record.rule,
            operation: record.operation,
            entity: record.entity,
            outcome: record.outcome,
            response: response.map(Json),
            key,
            source: record.source,
            reprocess_of: record.reprocess_of,
        })
    }

    /// The business's deliveries to all its endpoints, newest first (scope
    /// `webhooks`): the dead letters of the last hour are
    /// `filter: {state: "failed", since: …}`.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeliveryFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WebhookDeliveryPage> {
        let who = principal(ctx, Scope::Webhooks)?;
        let filter = filter.unwrap_or_default().into_case()?;
        let page = page(first, after)?;
        let found = webhook_case::all_deliveries(state(ctx)?, who, filter, page).await?;
        Ok(WebhookDeliveryPage {
            items: found
                .items
                .into_iter()
                .map(|(d, m)| WebhookDelivery::new(d, m))
                .collect(),
            next_cursor: found.next_cursor,
        })
    }

    /// Every event type an endpoint can subscribe to, with an example push body
    /// (scope `webhooks` or `read`).
    async fn webhook_event_types(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEventType>> {
        who(ctx)?.require_either(Scope::Webhooks, Scope::Read)?;
        Ok(webhook_case::event_types()
            .into_iter()
            .map(|t| WebhookEventType {
                name: t.event_type.to_string(),
                description: t.description.to_string(),
                example: Json(t.example),
            })
            .collect())
    }

    /// The rules in use and the last reload (scope `ingest` or `read`).
    async fn rules_status(&self, ctx: &Context<'_>) -> Result<RulesStatus> {
        let status = crate::app::rules::status(state(ctx)?, who(ctx)?)?;
        Ok(RulesStatus {
            version: status.version,
            rules: status.rules as u64,
            files: status.files,
            loaded_at: iso(status.loaded_at),
            warnings: status.warnings,
            last_reload: status.last_reload.map(|r| RulesReload {
                at: iso(r.at),
                ok: r.ok,
                errors: r.errors,
            }),
        })
    }
}

/// Mutations of the operator's view.
#[derive(Default)]
pub struct OperatorMutations;

#[Object]
impl OperatorMutations {
    /// Sends a stored payload through the current rules again, after a rule was
    /// fixed: explained with `dryRun: true`, otherwise ingested under a new logging
    /// id whose record names the original in `reprocessOf` (scope `ingest`).
    async fn reprocess_payload(
        &self,
        ctx: &Context<'_>,
        logging_id: String,
        dry_run: Option<bool>,
    ) -> Result<ReprocessResult> {
        let who = principal(ctx, Scope::Ingest)?;
        let app = state(ctx)?;
        Ok(
            match ingest_case::reprocess(app, who, logging_id, dry_run.unwrap_or(false)).await? {
                Reprocessed::Explained(answer) => ReprocessResult {
                    status: 200,
                    logging_id: None,
                    answer: Json(serde_json::to_value(answer).map_err(|e| {
                        Error::Internal(anyhow::anyhow!("explanation as JSON: {e}"))
                    })?),
                },
                Reprocessed::Ingested(ack) => {
                    let answer = ack.body();
                    ReprocessResult {
                        status: i32::from(ack.status().as_u16()),
                        logging_id: answer["logging_id"].as_str().map(str::to_string),
                        answer: Json(answer),
                    }
                }
            },
        )
    }

    /// Sends again every delivery of the business matching the filter: the dead
    /// letters by default, or `state: "delivered"`. Answers how many (scope
    /// `webhooks`).
    async fn replay_webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeliveryFilter>,
    ) -> Result<u64> {
        let who = principal(ctx, Scope::Webhooks)?;
        let filter = filter.unwrap_or_default().into_case()?;
        Ok(webhook_case::replay_matching(state(ctx)?, who, filter).await?)
    }

    /// Sends the catalogue's example of `eventType` (default `shipment.created`)
    /// to one endpoint now, signed like any push; the message pull and
    /// subscriptions leave it out (scope `webhooks`).
    async fn send_test_webhook(
        &self,
        ctx: &Context<'_>,
        endpoint_id: i64,
        event_type: Option<String>,
    ) -> Result<WebhookDelivery> {
        let who = principal(ctx, Scope::Webhooks)?;
        let name = event_type.unwrap_or_else(|| "shipment.created".into());
        let event_type = EventType::parse(&name).ok_or_else(|| {
            Error::invalid_field(
                "eventType",
                webhook_case::unknown_event_type(&name).unwrap_or_default(),
            )
        })?;
        let (delivery, message) = webhook_case::send_test(
            state(ctx)?,
            who,
            EndpointId::from_public(endpoint_id),
            event_type,
        )
        .await?;
        Ok(WebhookDelivery::new(delivery, message))
    }
}
