//! The outbox: messages written in the transaction of the change that causes them,
//! one delivery per interested endpoint, and the messages read back for pushes and pulls.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value, json};

use super::entities::{delivery, message, webhook_endpoint};
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
