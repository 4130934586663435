//! The outbox: messages written in the transaction of the change that causes them,
//! one delivery per interested endpoint, and the dispatcher's claims on them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use super::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::error::{Error, Result};

/// Delivery states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// An event to publish.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub business_id: i64,
    pub facility_id: Option<i64>,
    pub facility_slug: Option<String>,
    pub event_type: &'static str,
    /// Events with the same key reach an endpoint in the order they were written.
    pub ordering_key: Option<String>,
    pub data: Value,
}

fn wants(endpoint: &webhook_endpoint::Model, event: &NewEvent) -> bool {
    let listed = |list: &Option<Value>, wanted: Option<&str>| match (list, wanted) {
        (Some(Value::Array(items)), Some(w)) => items.iter().any(|i| i.as_str() == Some(w)),
        (Some(Value::Array(_)), None) => false,
        _ => true,
    };
    listed(&endpoint.event_types, Some(event.event_type))
        && listed(&endpoint.facilities, event.facility_slug.as_deref())
}

/// Writes the message and its deliveries; call it on the change's transaction.
pub async fn emit(db: &impl ConnectionTrait, event: NewEvent) -> Result<message::Model> {
    let now = Utc::now();
    let body = json!({
        "type": event.event_type,
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": event.data,
    });
    let message = message::ActiveModel {
        webhook_id: Set(format!("msg_{}", uuid::Uuid::now_v7().simple())),
        business_id: Set(event.business_id),
        facility_id: Set(event.facility_id),
        event_type: Set(event.event_type.to_string()),
        ordering_key: Set(event.ordering_key.clone()),
        body: Set(body.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::BusinessId.eq(event.business_id))
        .filter(webhook_endpoint::Column::Disabled.eq(false))
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let rows: Vec<_> = endpoints
        .iter()
        .filter(|e| wants(e, &event))
        .map(|endpoint| delivery::ActiveModel {
            message_id: Set(message.id),
            endpoint_id: Set(endpoint.id),
            ordering_key: Set(event.ordering_key.clone()),
            state: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        delivery::Entity::insert_many(rows)
            .exec(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    Ok(message)
}

/// Claims up to `limit` due deliveries for `owner` with a lease, skipping endpoints
/// in `busy` and deliveries with an earlier undelivered one of the same ordering
/// key. On PostgreSQL concurrent dispatchers skip each other's rows (SKIP LOCKED).
pub async fn claim(
    db: &sea_orm::DatabaseConnection,
    owner: &str,
    lease: Duration,
    limit: u64,
    busy: &[i64],
) -> Result<Vec<delivery::Model>> {
    let now = Utc::now();
    let txn = super::begin_write(db).await.map_err(Error::from_db_err)?;
    let mut query = delivery::Entity::find()
        .filter(delivery::Column::State.eq(PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(delivery::Column::LeaseExpiresAt.is_null())
                .add(delivery::Column::LeaseExpiresAt.lt(now)),
        )
        .filter(Expr::cust(
            "deliveries.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE disabled = false)",
        ))
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = deliveries.endpoint_id \
             AND p.ordering_key = deliveries.ordering_key AND p.id < deliveries.id AND p.state = 'pending')",
        ))
        .order_by_asc(delivery::Column::Id)
        .limit(limit);
    if !busy.is_empty() {
        query = query.filter(delivery::Column::EndpointId.is_not_in(busy.iter().copied()));
    }
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let due = query.all(&txn).await.map_err(Error::from_db_err)?;
    let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
    if !ids.is_empty() {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseOwner, Expr::value(owner))
            .col_expr(delivery::Column::LeaseExpiresAt, Expr::value(now + lease))
            .filter(delivery::Column::Id.is_in(ids))
            .exec(&txn)
            .await
            .map_err(Error::from_db_err)?;
    }
    txn.commit().await.map_err(Error::from_db_err)?;
    Ok(due)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// The delivery's state afterwards, and when it is pending, its next attempt.
    pub state: &'static str,
    pub next_attempt_at: DateTime<Utc>,
}

/// Logs an attempt and moves the delivery on, if `owner` still holds its lease.
pub async fn record_attempt(
    db: &sea_orm::DatabaseConnection,
    delivery_id: i64,
    owner: &str,
    record: AttemptRecord,
) -> Result<()> {
    let txn = super::begin_write(db).await.map_err(Error::from_db_err)?;
    delivery_attempt::ActiveModel {
        delivery_id: Set(delivery_id),
        attempt: Set(record.attempt),
        attempted_at: Set(record.attempted_at),
        status_code: Set(record.status_code.map(i32::from)),
        duration_ms: Set(record.duration_ms),
        response_body: Set(record.response_body),
        error: Set(record.error.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(Error::from_db_err)?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(record.state))
        .col_expr(delivery::Column::Attempts, Expr::value(record.attempt))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(record.next_attempt_at),
        )
        .col_expr(
            delivery::Column::LastStatus,
            Expr::value(record.status_code.map(i32::from)),
        )
        .col_expr(delivery::Column::LastError, Expr::value(record.error))
        .col_expr(
            delivery::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            delivery::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.eq(delivery_id))
        .filter(delivery::Column::LeaseOwner.eq(owner))
        .exec(&txn)
        .await
        .map_err(Error::from_db_err)?;
    txn.commit().await.map_err(Error::from_db_err)
}

/// The message a delivery carries.
pub async fn message_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<message::Model>> {
    message::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Messages of the business after `after_id`, oldest first; optionally one facility
/// and only some event types.
pub async fn messages_after(
    db: &impl ConnectionTrait,
    business_id: i64,
    after_id: i64,
    since: Option<DateTime<Utc>>,
    facility_id: Option<i64>,
    types: Option<&[&str]>,
    limit: u64,
) -> Result<Vec<message::Model>> {
    let mut query = message::Entity::find()
        .filter(message::Column::BusinessId.eq(business_id))
        .filter(message::Column::Id.gt(after_id));
    if let Some(types) = types {
        query = query.filter(message::Column::EventType.is_in(types.iter().copied()));
    }
    if let Some(since) = since {
        query = query.filter(message::Column::CreatedAt.gt(since));
    }
    if let Some(facility_id) = facility_id {
        query = query.filter(message::Column::FacilityId.eq(facility_id));
    }
    query
        .order_by_asc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Gives claimed deliveries back at once (the endpoint has no free slot).
pub async fn release(db: &impl ConnectionTrait, owner: &str, ids: &[i64]) -> Result<()> {
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            delivery::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
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
