//! The outbox: messages written in the transaction of the change that causes them,
//! one delivery per interested endpoint, and the messages read back for pushes and pulls.
//! Inside a [`unit`] the messages are written together at the unit's end.

use super::gate::Write;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use super::entities::{delivery, message, outbound_batch_part, webhook_endpoint};
use super::{stable, unit};
use crate::domain::{DeliveryState, EventType};
use crate::error::{Error, Result};

/// An event to publish.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub business_id: i64,
    pub facility_id: Option<i64>,
    pub facility_slug: Option<String>,
    pub event_type: EventType,
    /// Events with the same key reach an endpoint in the order they were written.
    pub ordering_key: Option<String>,
    pub data: Value,
    /// The party the event concerns besides the business (a trip's subcontractor).
    pub audience: Option<String>,
}

/// A request an outbound mapping rendered for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The body bytes every attempt sends.
    pub body: String,
    /// The URL, method and headers, as JSON (the `outbound` module reads it back).
    pub request: String,
}

/// An outbound target that wants an event: what its mapping rendered, or why it
/// could not render it.
#[derive(Debug, Clone)]
pub struct Routed {
    pub target: String,
    pub rendered: std::result::Result<Rendered, String>,
    /// For a batched mapping: the event's part of its period's file, kept until the
    /// period ends (then `rendered` is not used).
    pub part: Option<BatchPart>,
}

/// An event's part of a batch file.
#[derive(Debug, Clone)]
pub struct BatchPart {
    pub mapping: String,
    pub period_start: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// A JSON list of the documents (or CSV rows) the event rendered.
    pub documents: String,
}

/// Finds the outbound targets that want an event and renders their requests; given
/// to the [`super::gate::WriteGate`], so every transaction's events go through it.
pub trait Router: Send + Sync {
    /// The targets of the event's business (`data.business`) whose mappings take
    /// the event `envelope` (the body a webhook push carries).
    fn route(&self, envelope: &Value) -> Vec<Routed>;
}

/// Where one delivery of a message goes, and what it sends when not the envelope.
struct Destination {
    endpoint_id: i64,
    /// An outbound target's rendered request, or why none could be rendered (the
    /// delivery is then dead-lettered at once, for an operator to see and replay).
    rendered: Option<std::result::Result<Rendered, String>>,
}

fn wants(endpoint: &webhook_endpoint::Model, event: &NewEvent) -> bool {
    if endpoint.outbound.is_some() {
        return false;
    }
    // A party's endpoint receives only the events concerning that party.
    if endpoint.party.is_some() && endpoint.party != event.audience {
        return false;
    }
    let listed = |list: &Option<Value>, wanted: Option<&str>| match (list, wanted) {
        (Some(Value::Array(items)), Some(w)) => items.iter().any(|i| i.as_str() == Some(w)),
        (Some(Value::Array(_)), None) => false,
        _ => true,
    };
    listed(&endpoint.event_types, Some(event.event_type.as_str()))
        && listed(&endpoint.facilities, event.facility_slug.as_deref())
}

/// A message emitted but not yet written, with the endpoints that want it.
pub struct Pending {
    message: message::ActiveModel,
    webhook_id: String,
    ordering_key: Option<String>,
    endpoints: Vec<Destination>,
    at: DateTime<Utc>,
}

impl Pending {
    /// The deliveries writing this message creates.
    pub(super) fn deliveries(&self) -> usize {
        self.endpoints.len()
    }
}

/// A message as emitted: what its pushes will carry.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub webhook_id: String,
    pub body: String,
}

/// The body every push of an event carries: `type`, `timestamp` and `data`.
pub fn envelope(event_type: EventType, at: chrono::DateTime<Utc>, data: &Value) -> Value {
    json!({
        "type": event_type.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
}

/// Emits the message and its deliveries on the change's connection (so inside its
/// transaction): at once, or at the end of the enclosing [`unit`].
pub async fn emit(db: &impl Write, event: NewEvent) -> Result<Emitted> {
    let now = Utc::now();
    let body = envelope(event.event_type, now, &event.data);
    let emitted = Emitted {
        webhook_id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
        body: body.to_string(),
    };
    let message = message::ActiveModel {
        webhook_id: Set(emitted.webhook_id.clone()),
        business_id: Set(event.business_id),
        facility_id: Set(event.facility_id),
        event_type: Set(event.event_type.as_str().to_string()),
        ordering_key: Set(event.ordering_key.clone()),
        body: Set(emitted.body.clone()),
        created_at: Set(now),
        audience: Set(event.audience.clone()),
        ..Default::default()
    };
    let known = unit::endpoints(db, event.business_id, || {
        endpoints_of(db, event.business_id)
    })
    .await?;
    let mut endpoints: Vec<Destination> = known
        .iter()
        .filter(|e| wants(e, &event))
        .map(|e| Destination {
            endpoint_id: e.id,
            rendered: None,
        })
        .collect();
    if let Some(router) = db.router() {
        for routed in router.route(&body) {
            let endpoint_id = match known
                .iter()
                .find(|e| e.outbound.as_deref() == Some(routed.target.as_str()))
            {
                Some(row) => row.id,
                None => outbound_endpoint(db, event.business_id, &routed.target).await?,
            };
            if let Some(part) = routed.part {
                batch_part(db, endpoint_id, part, now).await?;
                continue;
            }
            endpoints.push(Destination {
                endpoint_id,
                rendered: Some(routed.rendered),
            });
        }
    }
    let pending = Pending {
        message,
        webhook_id: emitted.webhook_id.clone(),
        ordering_key: event.ordering_key,
        endpoints,
        at: now,
    };
    if let Some(pending) = unit::defer(db, pending) {
        write_pending(db, vec![pending]).await?;
    }
    Ok(emitted)
}

/// Keeps an event's part of a batch file, in the change's transaction.
async fn batch_part(
    db: &impl Write,
    endpoint_id: i64,
    part: BatchPart,
    now: DateTime<Utc>,
) -> Result<()> {
    outbound_batch_part::Entity::insert(outbound_batch_part::ActiveModel {
        endpoint_id: Set(endpoint_id),
        mapping: Set(part.mapping),
        period_start: Set(part.period_start),
        due_at: Set(part.due_at),
        documents: Set(part.documents),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    Ok(())
}

/// Batch parts whose period has ended, oldest first.
pub async fn due_batch_parts(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbound_batch_part::Model>> {
    outbound_batch_part::Entity::find()
        .filter(outbound_batch_part::Column::DueAt.lte(now))
        .order_by_asc(outbound_batch_part::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Turns a period's parts into one delivery of the batch's file to their target
/// `endpoint`: a message carrying `envelope` (left out of pulls and subscriptions,
/// as a test message is) and its delivery with the rendered file, or dead-lettered
/// with why it could not be rendered (and the parts' documents as its body). False, and nothing written, when another
/// dispatcher took some of the parts first (the caller rolls back).
pub async fn write_batch(
    db: &impl Write,
    endpoint: &webhook_endpoint::Model,
    part_ids: &[i64],
    envelope: &Value,
    ordering_key: String,
    rendered: std::result::Result<Rendered, (String, String)>,
) -> Result<bool> {
    use sea_orm::ActiveModelTrait;
    let taken = outbound_batch_part::Entity::delete_many()
        .filter(outbound_batch_part::Column::Id.is_in(part_ids.iter().copied()))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    if taken.rows_affected != part_ids.len() as u64 {
        return Ok(false);
    }
    let now = Utc::now();
    let message = message::ActiveModel {
        webhook_id: Set(format!("msg_{}", uuid::Uuid::now_v7().simple())),
        business_id: Set(endpoint.business_id),
        facility_id: Set(None),
        event_type: Set(envelope["type"].as_str().unwrap_or_default().to_string()),
        ordering_key: Set(Some(ordering_key.clone())),
        body: Set(envelope.to_string()),
        created_at: Set(now),
        is_test: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    let (state, body, request, error) = match rendered {
        Ok(r) => (DeliveryState::Pending, Some(r.body), Some(r.request), None),
        // The parts' documents stay with the dead letter, so nothing is lost.
        Err((why, documents)) => (DeliveryState::Failed, Some(documents), None, Some(why)),
    };
    new_delivery(
        (message.id, endpoint.id),
        Some(ordering_key),
        NewState {
            state,
            body,
            request,
            error,
        },
        now,
    )
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    db.wrote_deliveries();
    Ok(true)
}

/// The id of the endpoint row standing for outbound target `name` of the business
/// (not among the endpoints read), added on first use.
async fn outbound_endpoint(db: &impl Write, business_id: i64, name: &str) -> Result<i64> {
    use sea_orm::sea_query::OnConflict;
    let row = || {
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::BusinessId.eq(business_id))
            .filter(webhook_endpoint::Column::Outbound.eq(name))
            .one(db)
    };
    // A paused target's row is not among the enabled endpoints the event read.
    if let Some(found) = row().await.map_err(Error::from_db_err)? {
        return Ok(found.id);
    }
    let now = Utc::now();
    // Two writers may add it at once (on PostgreSQL): the second finds the first's.
    webhook_endpoint::Entity::insert(webhook_endpoint::ActiveModel {
        business_id: Set(business_id),
        url: Set(format!("outbound:{name}")),
        description: Set(Some(format!(
            "outbound target `{name}`, declared in the outbound files"
        ))),
        secret: Set(String::new()),
        disabled: Set(false),
        outbound: Set(Some(name.to_string())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            webhook_endpoint::Column::BusinessId,
            webhook_endpoint::Column::Outbound,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    let added = row().await.map_err(Error::from_db_err)?.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!(
            "the row of outbound target {name} is not there after adding it"
        ))
    })?;
    unit::forget_endpoints(db, business_id);
    Ok(added.id)
}

async fn endpoints_of(db: &impl Write, business_id: i64) -> Result<Vec<webhook_endpoint::Model>> {
    webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::BusinessId.eq(business_id))
        .filter(webhook_endpoint::Column::Disabled.eq(false))
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Writes emitted messages in emission order, several to a statement (in the fixed
/// sizes of [`stable::chunks`], so the statement texts repeat), then their deliveries.
pub(super) async fn write_pending(db: &impl Write, pending: Vec<Pending>) -> Result<()> {
    for chunk in stable::chunks(&pending) {
        let rows = chunk.iter().map(|p| p.message.clone());
        if chunk.iter().all(|p| p.endpoints.is_empty()) {
            message::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await
                .map_err(Error::from_db_err)?;
            continue;
        }
        // The order of RETURNING rows is not promised: match them by webhook id.
        let ids: HashMap<String, i64> = message::Entity::insert_many(rows)
            .exec_with_returning(db)
            .await
            .map_err(Error::from_db_err)?
            .into_iter()
            .map(|m| (m.webhook_id, m.id))
            .collect();
        let mut deliveries = Vec::new();
        for p in chunk {
            let message_id = ids.get(&p.webhook_id).copied().ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("message {} not returned", p.webhook_id))
            })?;
            deliveries.extend(p.endpoints.iter().map(|d| {
                let (state, body, request, error) = match &d.rendered {
                    None => (DeliveryState::Pending, None, None, None),
                    Some(Ok(r)) => (
                        DeliveryState::Pending,
                        Some(r.body.clone()),
                        Some(r.request.clone()),
                        None,
                    ),
                    Some(Err(why)) => (DeliveryState::Failed, None, None, Some(why.clone())),
                };
                new_delivery(
                    (message_id, d.endpoint_id),
                    p.ordering_key.clone(),
                    NewState {
                        state,
                        body,
                        request,
                        error,
                    },
                    p.at,
                )
            }));
        }
        for rows in stable::chunks(&deliveries) {
            delivery::Entity::insert_many(rows.iter().cloned())
                .exec_without_returning(db)
                .await
                .map_err(Error::from_db_err)?;
        }
        if !deliveries.is_empty() {
            db.wrote_deliveries();
        }
    }
    Ok(())
}

/// How a new delivery starts: its state, what it sends (an outbound target's
/// rendered body and request) and why it failed when it starts dead-lettered.
struct NewState {
    state: DeliveryState,
    body: Option<String>,
    request: Option<String>,
    error: Option<String>,
}

/// A new delivery of message `ids.0` to endpoint `ids.1`, due at `at`.
fn new_delivery(
    ids: (i64, i64),
    ordering_key: Option<String>,
    start: NewState,
    at: DateTime<Utc>,
) -> delivery::ActiveModel {
    delivery::ActiveModel {
        message_id: Set(ids.0),
        endpoint_id: Set(ids.1),
        ordering_key: Set(ordering_key),
        state: Set(start.state),
        attempts: Set(0),
        next_attempt_at: Set(at),
        last_error: Set(start.error),
        body: Set(start.body),
        request: Set(start.request),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
}

/// Writes a test message of `event_type` with `data` and its one delivery, to
/// `endpoint` only, whatever its filters; the pull and subscriptions leave it out.
pub async fn emit_test(
    db: &impl Write,
    endpoint: &webhook_endpoint::Model,
    event_type: EventType,
    data: &Value,
) -> Result<(delivery::Model, message::Model)> {
    use sea_orm::ActiveModelTrait;
    let now = Utc::now();
    let message = message::ActiveModel {
        webhook_id: Set(format!("msg_{}", uuid::Uuid::now_v7().simple())),
        business_id: Set(endpoint.business_id),
        facility_id: Set(None),
        event_type: Set(event_type.as_str().to_string()),
        ordering_key: Set(None),
        body: Set(envelope(event_type, now, data).to_string()),
        created_at: Set(now),
        is_test: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    let delivery = new_delivery(
        (message.id, endpoint.id),
        None,
        NewState {
            state: DeliveryState::Pending,
            body: None,
            request: None,
            error: None,
        },
        now,
    )
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    db.wrote_deliveries();
    Ok((delivery, message))
}

/// Which of a business's messages to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageQuery<'a> {
    /// Only messages with a greater id.
    pub after_id: i64,
    /// Only messages written after this time.
    pub since: Option<DateTime<Utc>>,
    pub facility_id: Option<i64>,
    /// Only these event types.
    pub types: Option<&'a [&'a str]>,
    /// Only the messages concerning this party (a subcontractor key's pull).
    pub audience: Option<&'a str>,
}

/// Messages of the business matching `q`, oldest first, at most `limit`.
pub async fn messages_after(
    db: &impl ConnectionTrait,
    business_id: i64,
    q: &MessageQuery<'_>,
    limit: u64,
) -> Result<Vec<message::Model>> {
    let mut query = message::Entity::find()
        .filter(message::Column::BusinessId.eq(business_id))
        .filter(message::Column::Id.gt(q.after_id))
        .filter(message::Column::IsTest.eq(false));
    if let Some(audience) = q.audience {
        query = query.filter(message::Column::Audience.eq(audience));
    }
    if let Some(types) = q.types {
        query = query.filter(message::Column::EventType.is_in(types.iter().copied()));
    }
    if let Some(since) = q.since {
        query = query.filter(message::Column::CreatedAt.gt(since));
    }
    if let Some(facility_id) = q.facility_id {
        query = query.filter(message::Column::FacilityId.eq(facility_id));
    }
    query
        .order_by_asc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// The id of the business's newest message (0 when none): where a live feed starts.
pub async fn latest_message_id(db: &impl ConnectionTrait, business_id: i64) -> Result<i64> {
    let newest = message::Entity::find()
        .filter(message::Column::BusinessId.eq(business_id))
        .order_by_desc(message::Column::Id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(newest.map(|m| m.id).unwrap_or(0))
}

/// The id of the newest message of any business (0 when none).
pub async fn latest_message_id_of_all(db: &impl ConnectionTrait) -> Result<i64> {
    let newest = message::Entity::find()
        .order_by_desc(message::Column::Id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(newest.map(|m| m.id).unwrap_or(0))
}

/// Messages of every business after `after_id` whose type is one of `types`,
/// oldest first: what the subscriptions' one poller reads.
pub async fn legacy_messages_after(
    db: &impl ConnectionTrait,
    after_id: i64,
    types: &[&str],
    limit: u64,
) -> Result<Vec<message::Model>> {
    message::Entity::find()
        .filter(message::Column::Id.gt(after_id))
        .filter(message::Column::IsTest.eq(false))
        .filter(message::Column::EventType.is_in(types.iter().copied()))
        .order_by_asc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// One message by id.
pub async fn message_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<message::Model>> {
    message::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}
