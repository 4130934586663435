//! Idempotency keys: claim a key, finish it with the response, or release it.

use super::gate::Write;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};

use super::entities::idempotency_key;
use crate::domain::KeyState;
use crate::error::{Error, ProblemCode, Result};

/// The state of a key after trying to claim it.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: process the request, then finish the claim.
    Claimed(i64),
    /// The key was used before.
    Existing(idempotency_key::Model),
}

/// How long keys live.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// How long a key and its answer are kept.
    pub ttl: Duration,
    /// A claim still in flight after this long belongs to a request that died (a
    /// crash, or the request timeout cut it off); it may be taken over.
    pub abandoned_after: Duration,
}

/// Claims `key` for a request with `fingerprint`.
pub async fn claim(
    db: &impl Write,
    business_id: i64,
    key: &str,
    fingerprint: &str,
    window: Window,
) -> Result<Claim> {
    let ttl = window.ttl;
    for _ in 0..2 {
        let now = Utc::now();
        // ON CONFLICT DO NOTHING rather than a failing insert: the claim runs inside
        // the payload's transaction, which a failed statement would abort on
        // PostgreSQL. A concurrent claim of the same key by another instance waits
        // here until that instance's transaction ends.
        let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            business_id: Set(business_id),
            key: Set(key.to_string()),
            fingerprint: Set(fingerprint.to_string()),
            state: Set(KeyState::InFlight),
            created_at: Set(now),
            expires_at: Set(now + ttl),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                idempotency_key::Column::BusinessId,
                idempotency_key::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec(db)
        .await;
        match inserted {
            Ok(row) => return Ok(Claim::Claimed(row.last_insert_id)),
            Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(Error::from_db_err(e)),
        }
        let Some(existing) = find(db, business_id, key).await? else {
            continue;
        };
        if stale(&existing, now, window.abandoned_after) {
            idempotency_key::Entity::delete_by_id(existing.id)
                .exec(db)
                .await
                .map_err(Error::from_db_err)?;
            continue;
        }
        return Ok(Claim::Existing(existing));
    }
    Err(Error::Conflict {
        code: ProblemCode::IdempotencyInFlight,
        detail: "a request with this Idempotency-Key is being processed; retry later".into(),
    })
}

fn stale(row: &idempotency_key::Model, now: DateTime<Utc>, abandoned_after: Duration) -> bool {
    row.expires_at <= now
        || (row.state == KeyState::InFlight && row.created_at + abandoned_after <= now)
}

async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    key: &str,
) -> Result<Option<idempotency_key::Model>> {
    idempotency_key::Entity::find()
        .filter(idempotency_key::Column::BusinessId.eq(business_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Completes a claimed key with the answer's status and the payload record that
/// holds its body; run in the transaction of the request's writes.
pub async fn finish(db: &impl Write, id: i64, status: u16, logging_id: &str) -> Result<()> {
    let Some(row) = idempotency_key::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
    else {
        return Ok(());
    };
    let mut active = row.into_active_model();
    active.state = Set(KeyState::Complete);
    active.response_status = Set(Some(i32::from(status)));
    active.logging_id = Set(Some(logging_id.to_string()));
    active.update(db).await.map_err(Error::from_db_err)?;
    Ok(())
}

/// Deletes expired keys; returns how many.
pub async fn purge_expired(db: &impl Write) -> Result<u64> {
    let result = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(result.rows_affected)
}
