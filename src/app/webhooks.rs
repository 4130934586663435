//! Webhook use cases: endpoints (register, change, disable, rotate the secret,
//! remove), their deliveries and attempts, replay and recovery, and the message pull.
//! Every write takes its turn in the write queue like any other.

use chrono::{DateTime, Utc};

use super::App;
use crate::domain::{DeliveryId, EndpointId};
use crate::domain::{DeliveryState, Scope, Slug};
use crate::error::{Error, ProblemCode, Result};
use crate::store::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::store::keys::Principal;
use crate::store::{outbox, tenancy, webhooks};
use crate::webhooks::manage::{self, EndpointRequest};

/// Rows a listing answers when no limit is asked for, and the most it answers.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

/// The rows to answer: a limit outside 1 to 1000 is refused, not cut.
fn limit(asked: Option<u64>) -> Result<u64> {
    let limit = asked.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::BadRequest {
            code: ProblemCode::InvalidQueryParameter,
            detail: format!("limit must be 1 to {MAX_LIMIT}, not {limit}"),
        })
    }
}

/// The endpoint `id` of the business, or `not_found`. A role-bound key finds only
/// the endpoints made with its party's keys.
async fn find(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    id: EndpointId,
) -> Result<webhook_endpoint::Model> {
    let found = webhooks::find(db, who.business_id, id).await?;
    match who.role.party() {
        Some(party) if found.party.as_deref() != Some(party) => Err(Error::NotFound {
            what: "webhook endpoint",
            id: id.to_string(),
        }),
        _ => Ok(found),
    }
}

/// The business's endpoints (scope `webhooks`); a role-bound key's own only.
pub async fn list(app: &App, who: &Principal) -> Result<Vec<webhook_endpoint::Model>> {
    who.require(Scope::Webhooks)?;
    let mut all = webhooks::list_for(&app.db, who.business_id).await?;
    if let Some(party) = who.role.party() {
        all.retain(|e| e.party.as_deref() == Some(party));
    }
    Ok(all)
}

/// One endpoint of the business (scope `webhooks`).
pub async fn get(app: &App, who: &Principal, id: EndpointId) -> Result<webhook_endpoint::Model> {
    who.require(Scope::Webhooks)?;
    find(&app.db, who, id).await
}

/// Registers an endpoint with a new secret. The URL is checked (and resolved)
/// before the write begins, so a slow DNS answer holds up no other writer.
pub async fn create(
    app: &App,
    who: &Principal,
    request: EndpointRequest,
) -> Result<webhook_endpoint::Model> {
    who.require(Scope::Webhooks)?;
    let mut fields = manage::validate(&app.config, request).await?;
    fields.party = who.role.party().map(str::to_owned);
    let txn = app.begin().await?;
    let max = app.config.webhooks_max_endpoints_per_business;
    if webhooks::count(&txn, who.business_id).await? >= max as u64 {
        return Err(Error::Invalid {
            code: ProblemCode::TooManyEndpoints,
            detail: format!(
                "the business has {max} webhook endpoints, the most it may have (setting webhooks_max_endpoints_per_business); delete one or send several event types to one endpoint"
            ),
            errors: Vec::new(),
        });
    }
    let created = manage::create(&txn, who.business_id, fields).await?;
    txn.commit().await?;
    Ok(created)
}

/// An outbound target's row is declared by the outbound files: it can be paused,
/// and its deliveries read and replayed, but not changed here.
fn declared_elsewhere(endpoint: &webhook_endpoint::Model) -> Result<()> {
    match &endpoint.outbound {
        Some(name) => Err(Error::Conflict {
            code: ProblemCode::UnsupportedOperation,
            detail: format!(
                "this endpoint stands for outbound target `{name}`, which the outbound files declare: change it there (pausing it, its deliveries and replays work here)"
            ),
        }),
        None => Ok(()),
    }
}

/// Changes the fields given.
pub async fn update(
    app: &App,
    who: &Principal,
    id: EndpointId,
    request: EndpointRequest,
) -> Result<webhook_endpoint::Model> {
    who.require(Scope::Webhooks)?;
    declared_elsewhere(&find(&app.db, who, id).await?)?;
    let fields = manage::validate(&app.config, request).await?;
    let txn = app.begin().await?;
    let endpoint = find(&txn, who, id).await?;
    declared_elsewhere(&endpoint)?;
    let updated = webhooks::update(&txn, endpoint, fields).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Removes an endpoint and its pending deliveries.
pub async fn delete(app: &App, who: &Principal, id: EndpointId) -> Result<()> {
    who.require(Scope::Webhooks)?;
    let txn = app.begin().await?;
    let endpoint = find(&txn, who, id).await?;
    declared_elsewhere(&endpoint)?;
    webhooks::delete(&txn, endpoint).await?;
    txn.commit().await?;
    Ok(())
}

/// Pauses (`disabled`) or resumes pushes to an endpoint.
pub async fn set_disabled(
    app: &App,
    who: &Principal,
    id: EndpointId,
    disabled: bool,
) -> Result<webhook_endpoint::Model> {
    who.require(Scope::Webhooks)?;
    let reason = disabled.then(|| "disabled through the API".to_string());
    let txn = app.begin().await?;
    let endpoint = find(&txn, who, id).await?;
    let changed = webhooks::set_disabled(&txn, endpoint, disabled, reason).await?;
    txn.commit().await?;
    Ok(changed)
}

/// The endpoint's signing secret, on explicit request.
pub async fn secret(app: &App, who: &Principal, id: EndpointId) -> Result<String> {
    let endpoint = get(app, who, id).await?;
    declared_elsewhere(&endpoint)?;
    Ok(endpoint.secret)
}

/// A new secret; the old one keeps signing beside it for `overlap_secs` (the
/// configured default when not given).
pub async fn rotate(
    app: &App,
    who: &Principal,
    id: EndpointId,
    overlap_secs: Option<u64>,
) -> Result<webhook_endpoint::Model> {
    who.require(Scope::Webhooks)?;
    let txn = app.begin().await?;
    let endpoint = find(&txn, who, id).await?;
    declared_elsewhere(&endpoint)?;
    let rotated = manage::rotate(&txn, &app.config, endpoint, overlap_secs).await?;
    txn.commit().await?;
    Ok(rotated)
}

/// A delivery with the message it carries.
pub type Delivery = (delivery::Model, Option<message::Model>);

/// The endpoint's deliveries, newest first, optionally in one state.
pub async fn deliveries(
    app: &App,
    who: &Principal,
    id: EndpointId,
    state: Option<DeliveryState>,
    asked: Option<u64>,
) -> Result<Vec<Delivery>> {
    get(app, who, id).await?;
    webhooks::deliveries(&app.db, id.internal(), state, limit(asked)?).await
}

/// What a listing of deliveries across the business's endpoints asks for.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this endpoint's.
    pub endpoint: Option<i64>,
    pub state: Option<DeliveryState>,
    pub event_type: Option<String>,
    /// Written at or after.
    pub since: Option<DateTime<Utc>>,
    /// Written before.
    pub until: Option<DateTime<Utc>>,
}

/// The endpoint a filter names (`not_found` when it is not the business's), or every
/// endpoint of the business.
async fn endpoints_in_scope(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    endpoint: Option<i64>,
) -> Result<Vec<i64>> {
    Ok(match endpoint {
        Some(id) => vec![
            webhooks::find(db, who.business_id, EndpointId::new(id))
                .await?
                .id,
        ],
        None => webhooks::list_for(db, who.business_id)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect(),
    })
}

/// The business's deliveries to all its endpoints, newest first (scope `webhooks`):
/// what failed where, in one list.
pub async fn all_deliveries(
    app: &App,
    who: &Principal,
    filter: DeliveryFilter,
    page: crate::store::listing::Page,
) -> Result<super::Listing<Delivery>> {
    who.require(Scope::Webhooks)?;
    let endpoint_ids = endpoints_in_scope(&app.db, who, filter.endpoint).await?;
    if endpoint_ids.is_empty() {
        return Ok(super::Listing::empty());
    }
    let query = webhooks::DeliveryQuery {
        endpoint_ids,
        state: filter.state,
        event_type: filter.event_type,
        since: filter.since,
        until: filter.until,
    };
    let found = webhooks::deliveries_matching(&app.db, &query, page).await?;
    let next = super::next_after(&found, |(d, _)| d.id);
    Ok(super::Listing::new(found.rows, next))
}

/// The business's deliveries matching `filter` sent again (scope `webhooks`): the
/// dead letters by default, or `state: delivered`; answers how many.
pub async fn replay_matching(app: &App, who: &Principal, filter: DeliveryFilter) -> Result<u64> {
    who.require(Scope::Webhooks)?;
    let state = filter.state.unwrap_or(DeliveryState::Failed);
    if state == DeliveryState::Pending {
        return Err(Error::invalid_field(
            "$.state",
            "pending deliveries are sent already; replay `failed` or `delivered` ones",
        ));
    }
    let txn = app.begin().await?;
    let endpoint_ids = endpoints_in_scope(&txn, who, filter.endpoint).await?;
    if endpoint_ids.is_empty() {
        return Ok(0);
    }
    let query = webhooks::DeliveryQuery {
        endpoint_ids,
        state: Some(state),
        event_type: filter.event_type,
        since: filter.since,
        until: filter.until,
    };
    let requeued = webhooks::replay_matching(&txn, &query).await?;
    txn.commit().await?;
    Ok(requeued)
}

/// Why `name` is not an event type to filter on, or `None` when it is one.
pub fn unknown_event_type(name: &str) -> Option<String> {
    match crate::domain::EventType::parse(name) {
        Some(_) => None,
        None => Some(format!(
            "event_type `{}` is not an event type; one of {}",
            name.escape_debug(),
            crate::domain::EventType::names().join(", ")
        )),
    }
}

/// How far back an endpoint's health counts attempts.
pub const HEALTH_WINDOW_HOURS: i64 = 24;

/// How the endpoint is doing (scope `webhooks`): attempts and successes over the
/// last [`HEALTH_WINDOW_HOURS`], last success and failure, since when it fails, its
/// backlog and dead letters.
pub async fn health(app: &App, who: &Principal, id: EndpointId) -> Result<webhooks::Health> {
    get(app, who, id).await?;
    let since = Utc::now() - chrono::Duration::hours(HEALTH_WINDOW_HOURS);
    webhooks::health(&app.db, id.internal(), since).await
}

/// The endpoint's attempts, newest first.
pub async fn attempts(
    app: &App,
    who: &Principal,
    id: EndpointId,
    asked: Option<u64>,
) -> Result<Vec<(delivery_attempt::Model, delivery::Model)>> {
    get(app, who, id).await?;
    webhooks::attempts(&app.db, id.internal(), limit(asked)?).await
}

/// Sends one delivery again, as soon as the dispatcher gets to it.
pub async fn replay(
    app: &App,
    who: &Principal,
    id: EndpointId,
    delivery_id: DeliveryId,
) -> Result<Delivery> {
    who.require(Scope::Webhooks)?;
    let txn = app.begin().await?;
    find(&txn, who, id).await?;
    let replayed = webhooks::replay(&txn, id.internal(), delivery_id.internal()).await?;
    let message = outbox::message_by_id(&txn, replayed.message_id).await?;
    txn.commit().await?;
    Ok((replayed, message))
}

/// Re-queues the endpoint's dead-lettered deliveries written in `[since, until)`
/// (until now when not given); answers how many.
pub async fn recover(
    app: &App,
    who: &Principal,
    id: EndpointId,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<u64> {
    who.require(Scope::Webhooks)?;
    let until = until.unwrap_or_else(Utc::now);
    if until < since {
        return Err(Error::invalid_field(
            "$.until",
            format!("{until} is before since ({since}): nothing could match"),
        ));
    }
    let txn = app.begin().await?;
    find(&txn, who, id).await?;
    let requeued = webhooks::recover(&txn, id.internal(), since, until).await?;
    txn.commit().await?;
    Ok(requeued)
}

/// Where a message pull starts.
#[derive(Debug, Clone, Copy, Default)]
pub enum Since {
    /// From the first message.
    #[default]
    Start,
    /// After this message id.
    After(i64),
    /// Messages written at or after this time.
    Time(DateTime<Utc>),
}

/// A page of the message pull and where the next one starts.
pub struct Messages {
    pub messages: Vec<message::Model>,
    /// Pass as `since` for the next page.
    pub next: i64,
}

/// The business's messages in order (scope `read`), optionally of one facility.
pub async fn messages(
    app: &App,
    who: &Principal,
    since: Since,
    facility: Option<Slug>,
    asked: Option<u64>,
) -> Result<Messages> {
    who.require(Scope::Read)?;
    let (after_id, at) = match since {
        Since::Start => (0, None),
        Since::After(id) => (id, None),
        Since::Time(t) => (0, Some(t)),
    };
    let facility_id = match facility {
        // An unknown facility has no messages: an id no row holds.
        Some(slug) => Some(
            tenancy::find_facility(&app.db, who.business_id, &slug)
                .await?
                .map(|f| f.id)
                .unwrap_or(-1),
        ),
        None => None,
    };
    let query = outbox::MessageQuery {
        after_id,
        since: at,
        facility_id,
        types: None,
        audience: who.role.subcontractor(),
    };
    let rows = outbox::messages_after(&app.db, who.business_id, &query, limit(asked)?).await?;
    let next = match rows.last() {
        Some(last) => last.id,
        // Nothing at or after the time yet: everything written so far is older, so
        // the next pull starts after it rather than from the first message.
        None if at.is_some() => outbox::latest_message_id(&app.db, who.business_id).await?,
        None => after_id,
    };
    Ok(Messages {
        messages: rows,
        next,
    })
}

/// The delivery queue over every business, for `/metrics`.
pub async fn backlog(app: &App) -> Result<crate::store::dispatch::Backlog> {
    crate::store::dispatch::backlog(&app.db).await
}

/// One event type of the catalogue.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventTypeInfo {
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// When it is published.
    pub description: &'static str,
    /// A push body of this type, built by the code that builds real ones from
    /// sample records (ids and times are examples).
    #[schema(value_type = Object)]
    pub example: serde_json::Value,
}

/// Every event type an endpoint can subscribe to, with an example push body.
pub fn event_types() -> Vec<EventTypeInfo> {
    let at = DateTime::parse_from_rfc3339("2026-06-11T06:21:56Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    crate::domain::EventType::ALL
        .iter()
        .map(|t| EventTypeInfo {
            event_type: t.as_str(),
            description: t.description(),
            example: outbox::envelope(*t, at, &crate::store::events::example(*t)),
        })
        .collect()
}

/// Sends the catalogue's example of `event_type` to the endpoint alone, signed and
/// delivered like any push, whatever event types it subscribes to (scope
/// `webhooks`). The message is a test: the pull and subscriptions leave it out.
pub async fn send_test(
    app: &App,
    who: &Principal,
    id: EndpointId,
    event_type: crate::domain::EventType,
) -> Result<Delivery> {
    who.require(Scope::Webhooks)?;
    let txn = app.begin().await?;
    let endpoint = find(&txn, who, id).await?;
    declared_elsewhere(&endpoint)?;
    let data = crate::store::events::example(event_type);
    let (delivery, message) = outbox::emit_test(&txn, &endpoint, event_type, &data).await?;
    txn.commit().await?;
    Ok((delivery, Some(message)))
}
