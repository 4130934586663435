//! Webhook endpoints, their deliveries and attempts.

use super::gate::Write;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::Value;

use super::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::domain::DeliveryState;
use crate::domain::EndpointId;
use crate::domain::PublicId;
use crate::error::{Error, Result};

/// What a new endpoint or an update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointFields {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Option<Vec<String>>>,
    pub facilities: Option<Option<Vec<String>>>,
    /// On create only: the party whose events alone the endpoint receives (an
    /// endpoint made with a subcontractor's key).
    pub party: Option<String>,
}

fn list(values: Option<Vec<String>>) -> Option<Value> {
    values.map(|v| Value::from(v.into_iter().map(Value::String).collect::<Vec<_>>()))
}

fn not_found(id: EndpointId) -> Error {
    Error::NotFound {
        what: "webhook endpoint",
        id: id.to_string(),
    }
}

/// Registers an endpoint with its first secret.
pub async fn create(
    db: &impl Write,
    business_id: i64,
    url: String,
    fields: EndpointFields,
    secret: &str,
) -> Result<webhook_endpoint::Model> {
    let now = Utc::now();
    webhook_endpoint::ActiveModel {
        business_id: Set(business_id),
        url: Set(url),
        description: Set(fields.description.flatten()),
        event_types: Set(list(fields.event_types.flatten())),
        facilities: Set(list(fields.facilities.flatten())),
        party: Set(fields.party),
        secret: Set(secret.to_string()),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)
}

/// An endpoint of the business; other businesses' endpoints are not found.
pub async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    id: EndpointId,
) -> Result<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id.internal())
        .filter(webhook_endpoint::Column::BusinessId.eq(business_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or_else(|| not_found(id))
}

/// An endpoint by id, for the dispatcher.
/// How many endpoints the business has registered (enabled or not; the rows of
/// outbound targets do not count).
pub async fn count(db: &impl ConnectionTrait, business_id: i64) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::BusinessId.eq(business_id))
        .filter(webhook_endpoint::Column::Outbound.is_null())
        .count(db)
        .await
        .map_err(Error::from_db_err)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<webhook_endpoint::Model>> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// The endpoints with these ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<webhook_endpoint::Model>> {
    let mut endpoints = Vec::with_capacity(ids.len());
    for list in super::stable::id_lists(ids) {
        let found = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(list))
            .all(db)
            .await
            .map_err(Error::from_db_err)?;
        endpoints.extend(found);
    }
    Ok(endpoints)
}

/// The business's endpoints, oldest first.
pub async fn list_for(
    db: &impl ConnectionTrait,
    business_id: i64,
) -> Result<Vec<webhook_endpoint::Model>> {
    webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::BusinessId.eq(business_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Changes an endpoint's settings.
pub async fn update(
    db: &impl Write,
    endpoint: webhook_endpoint::Model,
    fields: EndpointFields,
) -> Result<webhook_endpoint::Model> {
    let mut active = endpoint.into_active_model();
    if let Some(url) = fields.url {
        active.url = Set(url);
    }
    if let Some(description) = fields.description {
        active.description = Set(description);
    }
    if let Some(types) = fields.event_types {
        active.event_types = Set(list(types));
    }
    if let Some(facilities) = fields.facilities {
        active.facilities = Set(list(facilities));
    }
    active.updated_at = Set(Utc::now());
    let replayed = active.update(db).await.map_err(Error::from_db_err)?;
    db.wrote_deliveries();
    Ok(replayed)
}

/// Enables or disables an endpoint; `reason` says why it was disabled.
pub async fn set_disabled(
    db: &impl Write,
    endpoint: webhook_endpoint::Model,
    disabled: bool,
    reason: Option<String>,
) -> Result<webhook_endpoint::Model> {
    let mut active = endpoint.into_active_model();
    active.disabled = Set(disabled);
    active.disabled_reason = Set(if disabled { reason } else { None });
    active.updated_at = Set(Utc::now());
    let replayed = active.update(db).await.map_err(Error::from_db_err)?;
    db.wrote_deliveries();
    Ok(replayed)
}

/// Disables an endpoint by id (the receiver answered 410 Gone).
pub async fn disable_by_id(db: &impl Write, id: i64, reason: &str) -> Result<()> {
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Disabled, Expr::value(true))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// Installs a new secret; the old one keeps signing for `overlap`.
pub async fn rotate(
    db: &impl Write,
    endpoint: webhook_endpoint::Model,
    new_secret: &str,
    overlap: Duration,
) -> Result<webhook_endpoint::Model> {
    let now = Utc::now();
    let old = endpoint.secret.clone();
    let mut active = endpoint.into_active_model();
    active.previous_secret = Set(Some(old));
    active.previous_secret_expires_at = Set(Some(now + overlap));
    active.secret = Set(new_secret.to_string());
    active.updated_at = Set(now);
    active.update(db).await.map_err(Error::from_db_err)
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: &impl Write, endpoint: webhook_endpoint::Model) -> Result<()> {
    webhook_endpoint::Entity::delete_by_id(endpoint.id)
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// An endpoint's deliveries with their messages, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    state: Option<DeliveryState>,
    limit: u64,
) -> Result<Vec<(delivery::Model, Option<message::Model>)>> {
    let mut query = delivery::Entity::find().filter(delivery::Column::EndpointId.eq(endpoint_id));
    if let Some(state) = state {
        query = query.filter(delivery::Column::State.eq(state));
    }
    let rows = query
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    with_messages(db, rows).await
}

/// Deliveries paired with their messages, read in one query.
async fn with_messages(
    db: &impl ConnectionTrait,
    rows: Vec<delivery::Model>,
) -> Result<Vec<(delivery::Model, Option<message::Model>)>> {
    let ids: Vec<i64> = rows.iter().map(|d| d.message_id).collect();
    let messages = message::Entity::find()
        .filter(message::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let m = messages.iter().find(|m| m.id == d.message_id).cloned();
            (d, m)
        })
        .collect())
}

/// Which deliveries a listing across endpoints returns.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// Deliveries to these endpoints (the business's, or the one asked for).
    pub endpoint_ids: Vec<i64>,
    pub state: Option<DeliveryState>,
    /// Of messages of this event type (`shipment.created`, …).
    pub event_type: Option<String>,
    /// Written at or after.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Written before.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl DeliveryQuery {
    /// The rows the query means, for a listing or an update.
    fn condition(&self) -> sea_orm::Condition {
        use delivery::Column as C;
        let mut condition =
            sea_orm::Condition::all().add(C::EndpointId.is_in(self.endpoint_ids.clone()));
        if let Some(state) = self.state {
            condition = condition.add(C::State.eq(state));
        }
        if let Some(since) = self.since {
            condition = condition.add(C::CreatedAt.gte(since));
        }
        if let Some(until) = self.until {
            condition = condition.add(C::CreatedAt.lt(until));
        }
        if let Some(event_type) = &self.event_type {
            condition = condition.add(
                C::MessageId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(message::Column::Id)
                        .from(message::Entity)
                        .and_where(message::Column::EventType.eq(event_type.as_str()))
                        .to_owned(),
                ),
            );
        }
        condition
    }
}

/// Deliveries matching `query`, newest first, with their messages: rows before
/// `page.after` (a delivery id), at most `page.limit`.
pub async fn deliveries_matching(
    db: &impl ConnectionTrait,
    query: &DeliveryQuery,
    page: super::listing::Page,
) -> Result<super::listing::Slice<(delivery::Model, Option<message::Model>)>> {
    use delivery::Column as C;
    let mut select = delivery::Entity::find().filter(query.condition());
    if let Some(after) = page.after {
        select = select.filter(C::Id.lt(after));
    }
    let rows = select
        .order_by_desc(C::Id)
        .limit(page.limit + 1)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let found = super::listing::slice(rows, page.limit);
    Ok(super::listing::Slice {
        has_more: found.has_more,
        rows: with_messages(db, found.rows).await?,
    })
}

/// The attempt log of an endpoint's deliveries, newest first.
pub async fn attempts(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    limit: u64,
) -> Result<Vec<(delivery_attempt::Model, delivery::Model)>> {
    let deliveries: Vec<delivery::Model> = delivery::Entity::find()
        .filter(delivery::Column::EndpointId.eq(endpoint_id))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
    let attempts = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.is_in(ids))
        .order_by_desc(delivery_attempt::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(attempts
        .into_iter()
        .filter_map(|a| {
            let d = deliveries.iter().find(|d| d.id == a.delivery_id)?.clone();
            Some((a, d))
        })
        .collect())
}

/// Puts one delivery of the endpoint back in the queue, to go out now.
pub async fn replay(
    db: &impl Write,
    endpoint_id: i64,
    delivery_id: i64,
) -> Result<delivery::Model> {
    let found = delivery::Entity::find_by_id(delivery_id)
        .filter(delivery::Column::EndpointId.eq(endpoint_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or(Error::NotFound {
            what: "delivery",
            id: PublicId::from(delivery_id).to_string(),
        })?;
    // The attempt numbers continue; the retry schedule starts again.
    let attempts = found.attempts;
    let mut active = found.into_active_model();
    active.state = Set(DeliveryState::Pending);
    active.attempts_before_replay = Set(attempts);
    active.next_attempt_at = Set(Utc::now());
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    active.updated_at = Set(Utc::now());
    let replayed = active.update(db).await.map_err(Error::from_db_err)?;
    db.wrote_deliveries();
    Ok(replayed)
}

/// Re-queues the deliveries matching `query` (its state: `failed` or `delivered`) to
/// be sent again now, as a replay of each would; returns how many.
pub async fn replay_matching(db: &impl Write, query: &DeliveryQuery) -> Result<u64> {
    use delivery::Column as C;
    let now = Utc::now();
    let mut update = delivery::Entity::update_many()
        .col_expr(C::State, Expr::value(DeliveryState::Pending.as_str()))
        .col_expr(C::AttemptsBeforeReplay, Expr::col(C::Attempts))
        .col_expr(C::NextAttemptAt, Expr::value(now))
        .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            C::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(query.condition());
    if query.state.is_none() {
        update = update.filter(C::State.eq(DeliveryState::Failed));
    }
    let result = update.exec(db).await.map_err(Error::from_db_err)?;
    if result.rows_affected > 0 {
        db.wrote_deliveries();
    }
    Ok(result.rows_affected)
}

/// How an endpoint is doing: its attempts since a time, its last success and
/// failure, since when it fails, and what waits for it.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub attempts: u64,
    /// Of `attempts`, those answered 2xx.
    pub delivered: u64,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The first failed attempt after the last success, while the last attempt failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Deliveries waiting for an attempt.
    pub backlog: u64,
    /// Deliveries given up (state `failed`).
    pub dead_letters: u64,
}

/// The endpoint's health over attempts made since `since`.
pub async fn health(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    since: DateTime<Utc>,
) -> Result<Health> {
    use sea_orm::sea_query::Query;
    use sea_orm::{PaginatorTrait, QuerySelect};
    let of_endpoint = || {
        delivery_attempt::Column::DeliveryId.in_subquery(
            Query::select()
                .column(delivery::Column::Id)
                .from(delivery::Entity)
                .and_where(delivery::Column::EndpointId.eq(endpoint_id))
                .to_owned(),
        )
    };
    use delivery_attempt::Column as A;
    let ok = || {
        sea_orm::Condition::all()
            .add(A::StatusCode.gte(200))
            .add(A::StatusCode.lt(300))
    };
    let failed = || {
        sea_orm::Condition::any()
            .add(A::StatusCode.is_null())
            .add(A::StatusCode.lt(200))
            .add(A::StatusCode.gte(300))
    };
    let attempts = delivery_attempt::Entity::find()
        .filter(of_endpoint())
        .filter(A::AttemptedAt.gte(since))
        .count(db)
        .await
        .map_err(Error::from_db_err)?;
    let delivered = delivery_attempt::Entity::find()
        .filter(of_endpoint())
        .filter(A::AttemptedAt.gte(since))
        .filter(ok())
        .count(db)
        .await
        .map_err(Error::from_db_err)?;
    let latest = |condition: sea_orm::Condition| {
        delivery_attempt::Entity::find()
            .select_only()
            .column(A::AttemptedAt)
            .filter(of_endpoint())
            .filter(condition)
            .order_by_desc(A::AttemptedAt)
            .limit(1)
            .into_tuple::<DateTime<Utc>>()
    };
    let last_success_at = latest(ok()).one(db).await.map_err(Error::from_db_err)?;
    let last_failure_at = latest(failed()).one(db).await.map_err(Error::from_db_err)?;
    let failing_since = match (last_failure_at, last_success_at) {
        (Some(failure), success) if success.is_none_or(|s| s < failure) => {
            let mut first = delivery_attempt::Entity::find()
                .select_only()
                .column(delivery_attempt::Column::AttemptedAt)
                .filter(of_endpoint());
            if let Some(success) = success {
                first = first.filter(delivery_attempt::Column::AttemptedAt.gt(success));
            }
            first
                .order_by_asc(delivery_attempt::Column::AttemptedAt)
                .limit(1)
                .into_tuple::<DateTime<Utc>>()
                .one(db)
                .await
                .map_err(Error::from_db_err)?
        }
        _ => None,
    };
    let count_state = |state: DeliveryState| {
        delivery::Entity::find()
            .filter(delivery::Column::EndpointId.eq(endpoint_id))
            .filter(delivery::Column::State.eq(state))
            .count(db)
    };
    let backlog = count_state(DeliveryState::Pending)
        .await
        .map_err(Error::from_db_err)?;
    let dead_letters = count_state(DeliveryState::Failed)
        .await
        .map_err(Error::from_db_err)?;
    Ok(Health {
        attempts,
        delivered,
        last_success_at,
        last_failure_at,
        failing_since,
        backlog,
        dead_letters,
    })
}

/// Re-queues every dead-lettered delivery of the endpoint whose message was
/// written in `[since, until)`; returns how many.
pub async fn recover(
    db: &impl Write,
    endpoint_id: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64> {
    let now = Utc::now();
    let result = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::State,
            Expr::value(DeliveryState::Pending.as_str()),
        )
        .col_expr(
            delivery::Column::AttemptsBeforeReplay,
            Expr::col(delivery::Column::Attempts),
        )
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::EndpointId.eq(endpoint_id))
        .filter(delivery::Column::State.eq(DeliveryState::Failed))
        .filter(delivery::Column::CreatedAt.gte(since))
        .filter(delivery::Column::CreatedAt.lt(until))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(result.rows_affected)
}
