//! The record of every payload received.

use super::gate::Write;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entities::{inbound_body, inbound_payload};
use crate::error::{Error, Result};

/// What to record about one payload.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub logging_id: &'a str,
    pub business_id: i64,
    /// The key it was sent with; `None` for a pulled payload.
    pub api_key_id: Option<i64>,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    pub outcome: &'a str,
    pub response: serde_json::Value,
    pub received_at: DateTime<Utc>,
    /// See `inbound_payload::Model::problem_codes`.
    pub problem_codes: Option<String>,
    /// See `inbound_payload::Model::refs`.
    pub refs: Option<String>,
    /// The door it came through.
    pub source: &'a str,
    /// For a reprocess, the logging id of the payload it reprocessed.
    pub reprocess_of: Option<&'a str>,
    /// For a pulled payload, the source run that fetched it.
    pub source_run_id: Option<i64>,
    /// For a partner's reply, the outbound delivery it answered.
    pub delivery_id: Option<i64>,
}

/// Records a payload; its body is kept as text (invalid UTF-8 replaced).
pub async fn record(db: &impl Write, p: NewInbound<'_>) -> Result<inbound_payload::Model> {
    let record = inbound_payload::ActiveModel {
        logging_id: Set(p.logging_id.to_string()),
        business_id: Set(p.business_id),
        api_key_id: Set(p.api_key_id),
        content_type: Set(p.content_type.chars().take(128).collect()),
        body_sha256: Set(hex::encode(Sha256::digest(p.body))),
        rule: Set(p.rule),
        operation: Set(p.operation),
        entity: Set(p.entity),
        outcome: Set(p.outcome.to_string()),
        received_at: Set(p.received_at),
        problem_codes: Set(p.problem_codes),
        refs: Set(p.refs),
        source: Set(Some(p.source.to_string())),
        reprocess_of: Set(p.reprocess_of.map(str::to_string)),
        source_run_id: Set(p.source_run_id),
        delivery_id: Set(p.delivery_id),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    inbound_body::ActiveModel {
        payload_id: Set(record.id),
        body: Set(String::from_utf8_lossy(p.body).replace('\0', "\u{fffd}")),
        response: Set(Some(p.response)),
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)?;
    Ok(record)
}

/// A payload record with its body and the answer sent.
#[derive(Debug, Clone)]
pub struct Stored {
    pub record: inbound_payload::Model,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
    pub response: Option<serde_json::Value>,
}

/// A payload record of the business by logging id, with its body and answer.
pub async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    logging_id: &str,
) -> Result<Option<Stored>> {
    let Some(record) = inbound_payload::Entity::find()
        .filter(inbound_payload::Column::BusinessId.eq(business_id))
        .filter(inbound_payload::Column::LoggingId.eq(logging_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)?
    else {
        return Ok(None);
    };
    let body = inbound_body::Entity::find_by_id(record.id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "payload record {} has no body row",
                record.id
            ))
        })?;
    Ok(Some(Stored {
        record,
        body: body.body,
        response: body.response,
    }))
}

/// Which payload records a listing returns; `None` means "no restriction".
#[derive(Debug, Clone, Default)]
pub struct InboundQuery {
    pub outcome: Option<String>,
    pub rule: Option<String>,
    /// A problem code the answer carries.
    pub code: Option<String>,
    /// Sent with one of these keys.
    pub key_ids: Option<Vec<i64>>,
    pub source: Option<String>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// A substring of a reference the answer names (a shipment or order number, …).
    pub reference: Option<String>,
}

/// A payload record without its body and answer, as listed.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct InboundRow {
    pub id: i64,
    pub logging_id: String,
    pub api_key_id: Option<i64>,
    pub content_type: String,
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    pub outcome: String,
    pub received_at: DateTime<Utc>,
    pub problem_codes: Option<String>,
    pub refs: Option<String>,
    pub source: Option<String>,
    pub reprocess_of: Option<String>,
}

/// The business's payload records matching `query`, newest received first (ties
/// by id): rows after `page.after` (a row id) in that order, at most `page.limit`
/// of them. Every filter's index ends in `(received_at, id)`, so `since` bounds the
/// entries read.
pub async fn list(
    db: &impl ConnectionTrait,
    business_id: i64,
    query: &InboundQuery,
    page: super::listing::Page,
) -> Result<super::listing::Slice<InboundRow>> {
    use inbound_payload::Column as C;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{QueryOrder, QuerySelect};
    let mut select = inbound_payload::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::LoggingId,
            C::ApiKeyId,
            C::ContentType,
            C::Rule,
            C::Operation,
            C::Entity,
            C::Outcome,
            C::ReceivedAt,
            C::ProblemCodes,
            C::Refs,
            C::Source,
            C::ReprocessOf,
        ])
        .filter(C::BusinessId.eq(business_id));
    // Newest received first, ties by id: the cursor is a row id, and the page
    // continues after that row's place in time.
    if let Some(after) = page.after {
        let at: Option<DateTime<Utc>> = inbound_payload::Entity::find_by_id(after)
            .select_only()
            .column(C::ReceivedAt)
            .filter(C::BusinessId.eq(business_id))
            .into_tuple()
            .one(db)
            .await
            .map_err(Error::from_db_err)?;
        select = match at {
            Some(at) => select.filter(
                Expr::tuple([Expr::col(C::ReceivedAt), Expr::col(C::Id)])
                    .lt(Expr::tuple([Expr::value(at), Expr::value(after)])),
            ),
            // Not a row of this business: nothing comes after it.
            None => return Ok(super::listing::slice(Vec::new(), page.limit)),
        };
    }
    if let Some(outcome) = &query.outcome {
        select = select.filter(C::Outcome.eq(outcome.as_str()));
    }
    if let Some(rule) = &query.rule {
        select = select.filter(C::Rule.eq(rule.as_str()));
    }
    if let Some(code) = &query.code {
        select = select.filter(C::ProblemCodes.like(literal_like(" ", code, " ")));
    }
    if let Some(ids) = &query.key_ids {
        select = select.filter(C::ApiKeyId.is_in(ids.iter().copied()));
    }
    if let Some(source) = &query.source {
        select = select.filter(C::Source.eq(source.as_str()));
    }
    if let Some(since) = query.since {
        select = select.filter(C::ReceivedAt.gte(since));
    }
    if let Some(until) = query.until {
        select = select.filter(C::ReceivedAt.lt(until));
    }
    if let Some(text) = &query.reference {
        select = select.filter(C::Refs.like(literal_like("", text, "")));
    }
    let rows = select
        .order_by_desc(C::ReceivedAt)
        .order_by_desc(C::Id)
        .limit(page.limit + 1)
        .into_model::<InboundRow>()
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(super::listing::slice(rows, page.limit))
}

/// A `LIKE` pattern matching `text` literally, anywhere, with `before` and `after`
/// around it: its wildcards are escaped (with `\`, named in an `ESCAPE` clause, as
/// SQLite has no default).
fn literal_like(before: &str, text: &str, after: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{before}{escaped}{after}%")).escape('\\')
}

/// How many of the business's payloads had each outcome, minute by minute, from
/// `since` on: `(minute, outcome, count)` with the minute as `YYYY-MM-DD HH:MM` in
/// UTC. One grouped read over the business's time index.
pub async fn outcomes_by_minute(
    db: &impl ConnectionTrait,
    business_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<(String, String, i64)>> {
    use inbound_payload::Column as C;
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::Expr;
    // Both stores keep the time in UTC: SQLite as text starting `YYYY-MM-DD HH:MM`,
    // PostgreSQL as a timestamp with time zone.
    let minute = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            Expr::cust("to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')")
        }
        _ => Expr::cust("substr(replace(received_at, 'T', ' '), 1, 16)"),
    };
    inbound_payload::Entity::find()
        .select_only()
        .column_as(minute.clone(), "minute")
        .column(C::Outcome)
        .column_as(C::Id.count(), "count")
        .filter(C::BusinessId.eq(business_id))
        .filter(C::ReceivedAt.gte(since))
        .group_by(minute)
        .group_by(C::Outcome)
        .into_tuple()
        .all(db)
        .await
        .map_err(Error::from_db_err)
}
