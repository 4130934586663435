//! The record of every payload received.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entities::inbound_payload;
use crate::error::{Error, Result};

/// What to record about one payload.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub logging_id: &'a str,
    pub business_id: i64,
    pub api_key_id: i64,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    pub outcome: &'a str,
    pub response: serde_json::Value,
    pub received_at: DateTime<Utc>,
}

/// Records a payload; its body is kept as text (invalid UTF-8 replaced).
pub async fn record(
    db: &impl ConnectionTrait,
    p: NewInbound<'_>,
) -> Result<inbound_payload::Model> {
    inbound_payload::ActiveModel {
        logging_id: Set(p.logging_id.to_string()),
        business_id: Set(p.business_id),
        api_key_id: Set(Some(p.api_key_id)),
        content_type: Set(p.content_type.chars().take(128).collect()),
        body_sha256: Set(hex::encode(Sha256::digest(p.body))),
        body: Set(String::from_utf8_lossy(p.body).replace('\0', "\u{fffd}")),
        rule: Set(p.rule),
        operation: Set(p.operation),
        entity: Set(p.entity),
        outcome: Set(p.outcome.to_string()),
        response: Set(Some(p.response)),
        received_at: Set(p.received_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)
}

/// A payload record of the business by logging id.
pub async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    logging_id: &str,
) -> Result<Option<inbound_payload::Model>> {
    inbound_payload::Entity::find()
        .filter(inbound_payload::Column::BusinessId.eq(business_id))
        .filter(inbound_payload::Column::LoggingId.eq(logging_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}
