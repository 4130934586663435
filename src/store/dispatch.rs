//! The dispatcher's side of the outbox: claims with a lease, lease renewal, and the
//! attempt log written for many deliveries in one transaction.

use super::gate::{Write, WriteGate};
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};

use super::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use super::stable;
use crate::domain::DeliveryState;
use crate::error::{Error, Result};

/// A claimed delivery: what a push needs of its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub message_id: i64,
    pub endpoint_id: i64,
    /// Attempts made before this one.
    pub attempts: i32,
    /// Of `attempts`, those made before the last replay: the retry schedule
    /// counts from here.
    pub attempts_before_replay: i32,
    /// An outbound target's rendered body and request (none for a webhook, or for
    /// an outbound delivery whose mapping has not rendered it yet).
    pub rendered: Option<super::outbox::Rendered>,
    /// The message's payload, when the claim read it (SQLite's claims do; see
    /// [`payloads`] for the others).
    pub payload: Option<Payload>,
}

/// What a push sends of a message: its id and the stored body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub webhook_id: String,
    pub body: String,
}

/// Up to `endpoints` endpoints with due work, skipping those in `busy`. Endpoints
/// are taken from just after `after`, wrapping round, so every endpoint gets its
/// turn (see [`fair_turns`]).
pub async fn due_endpoints(
    db: &super::Db,
    now: DateTime<Utc>,
    busy: &[i64],
    after: i64,
    endpoints: u64,
) -> Result<Vec<i64>> {
    // An idle dispatcher must not take SQLite's write lock every poll: this looks,
    // without a transaction, which endpoints have anything due at all.
    fair_turns(db, now, busy, after, endpoints).await
}

/// Claims due deliveries for `owner` with a lease until `now + lease`: up to
/// `per_endpoint` for each endpoint of `due_at` (from [`due_endpoints`]), skipping
/// deliveries with an earlier undelivered one of the same ordering key. Each
/// endpoint's backlog is read through its own range of the due index, so a long
/// backlog of one endpoint costs the others nothing.
///
/// On PostgreSQL each endpoint's claim is one statement (an UPDATE of the rows a
/// `FOR UPDATE SKIP LOCKED` subquery picks, returning them), in its own transaction:
/// concurrent dispatchers skip each other's rows, and a claim costs one round trip
/// instead of five. On SQLite the reads and the lease are one transaction on the
/// process's write turn.
pub async fn claim(
    gate: &WriteGate,
    db: &DatabaseConnection,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
    per_endpoint: u64,
    due_at: Vec<i64>,
) -> Result<Vec<Claimed>> {
    if db.get_database_backend() == DbBackend::Postgres {
        let mut claimed = Vec::new();
        for endpoint in due_at {
            let picked = due(now, endpoint, DbBackend::Postgres)
                .select_only()
                .column(delivery::Column::Id)
                .limit(per_endpoint)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_query();
            let mut rows = leased(owner, now + lease)
                .filter(delivery::Column::Id.in_subquery(picked))
                .exec_with_returning(db)
                .await
                .map_err(Error::from_db_err)?;
            // RETURNING promises no order: the due order is (next attempt, id).
            rows.sort_by_key(|d| (d.next_attempt_at, d.id));
            claimed.extend(rows.into_iter().map(Claimed::from));
        }
        return Ok(claimed);
    }
    let txn = gate.begin(db).await?;
    let mut claimed = Vec::new();
    for endpoint in due_at {
        // Only what a push needs: the row's timestamps are text on SQLite, and
        // reading them back would parse three dates per delivery. The message's
        // payload comes in the same statement, a seek of its primary key per row,
        // instead of a second query for the batch.
        use delivery::Column as D;
        let rows: Vec<ClaimedWithPayload> = due(now, endpoint, DbBackend::Sqlite)
            .select_only()
            .columns([
                D::Id,
                D::MessageId,
                D::EndpointId,
                D::Attempts,
                D::AttemptsBeforeReplay,
                D::Body,
                D::Request,
            ])
            .columns([message::Column::WebhookId, message::Column::Body])
            .join(
                sea_orm::JoinType::InnerJoin,
                delivery::Entity::belongs_to(message::Entity)
                    .from(D::MessageId)
                    .to(message::Column::Id)
                    .into(),
            )
            .limit(per_endpoint)
            .into_tuple()
            .all(&txn)
            .await
            .map_err(Error::from_db_err)?;
        claimed.extend(rows.into_iter().map(Claimed::with_payload));
    }
    let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    for list in stable::id_lists(&ids) {
        leased(owner, now + lease)
            .filter(delivery::Column::Id.is_in(list))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(claimed)
}

/// The pending state as a literal of the statement's text. Compared with a bound
/// value, SQLite checks the value against the partial index of pending deliveries
/// and prepares the statement again at each new binding (see
/// [`stable::literal_limit`]).
fn pending() -> Expr {
    Expr::cust(format!("'{}'", DeliveryState::Pending.as_str()))
}

/// An update giving deliveries to `owner` until `until`.
fn leased(owner: &str, until: DateTime<Utc>) -> sea_orm::UpdateMany<delivery::Entity> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseOwner, Expr::value(owner))
        .col_expr(delivery::Column::LeaseExpiresAt, Expr::value(until))
}

/// A claimed delivery's columns: id, message, endpoint, attempts, attempts before
/// the last replay, rendered body and request.
type ClaimedColumns = (i64, i64, i64, i32, i32, Option<String>, Option<String>);

/// [`ClaimedColumns`] followed by the message's webhook id and body.
type ClaimedWithPayload = (
    i64,
    i64,
    i64,
    i32,
    i32,
    Option<String>,
    Option<String>,
    String,
    String,
);

impl Claimed {
    fn from_columns(
        (id, message_id, endpoint_id, attempts, attempts_before_replay, body, request): ClaimedColumns,
    ) -> Self {
        Claimed {
            id,
            message_id,
            endpoint_id,
            attempts,
            attempts_before_replay,
            rendered: body
                .zip(request)
                .map(|(body, request)| super::outbox::Rendered { body, request }),
            payload: None,
        }
    }

    fn with_payload(
        (id, message_id, endpoint_id, attempts, before, body, request, webhook_id, payload): ClaimedWithPayload,
    ) -> Self {
        Claimed {
            payload: Some(Payload {
                webhook_id,
                body: payload,
            }),
            ..Claimed::from_columns((id, message_id, endpoint_id, attempts, before, body, request))
        }
    }
}

impl From<delivery::Model> for Claimed {
    fn from(d: delivery::Model) -> Self {
        Claimed::from_columns((
            d.id,
            d.message_id,
            d.endpoint_id,
            d.attempts,
            d.attempts_before_replay,
            d.body,
            d.request,
        ))
    }
}

/// Up to `limit` endpoints with due work, fair between businesses: each business's
/// first due endpoint (in the rotating order from just after `after`), then each
/// one's second, and so on. A business with a thousand endpoints then gets no more
/// turns in a round than a business with one, for as long as both have work.
async fn fair_turns(
    db: &super::Db,
    now: DateTime<Utc>,
    busy: &[i64],
    after: i64,
    limit: u64,
) -> Result<Vec<i64>> {
    use sea_orm::sea_query::{Order, SelectStatement};
    let rotated = |column: &str| Expr::cust_with_values(format!(r#"("{column}" <= $1)"#), [after]);
    let mut candidates: SelectStatement = due_rows_by_endpoint(now, busy)
        .column(webhook_endpoint::Column::BusinessId)
        .into_query();
    candidates.expr_as(
        Expr::cust_with_values(
            r#"ROW_NUMBER() OVER (PARTITION BY "business_id" ORDER BY ("id" <= $1), "id")"#,
            [after],
        ),
        Alias::new("turn"),
    );
    let fair = Query::select()
        .column(Alias::new("id"))
        .from_subquery(candidates, Alias::new("candidates"))
        .order_by(Alias::new("turn"), Order::Asc)
        .order_by_expr(rotated("id"), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc)
        .limit(limit)
        .to_owned();
    // Through `Db`, whose statements carry their limit as a number on SQLite.
    let fair = db.get_database_backend().build(&fair);
    let rows = db.query_all_raw(fair).await.map_err(Error::from_db_err)?;
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(Error::from_db_err))
        .collect()
}

/// Enabled endpoints outside `busy` with a delivery due at `now` that no lease
/// holds: one seek into the due index per endpoint.
fn due_rows_by_endpoint(
    now: DateTime<Utc>,
    busy: &[i64],
) -> sea_orm::Select<webhook_endpoint::Entity> {
    use delivery::Column as D;
    let d = Alias::new("d");
    let leased_by_none = Expr::col((d.clone(), D::LeaseExpiresAt))
        .is_null()
        .or(Expr::col((d.clone(), D::LeaseExpiresAt)).lt(now));
    let due_here = Query::select()
        .expr(Expr::val(1))
        .from_as(delivery::Entity, d.clone())
        .and_where(
            Expr::col((d.clone(), D::EndpointId))
                .equals((webhook_endpoint::Entity, webhook_endpoint::Column::Id)),
        )
        .and_where(Expr::col((d.clone(), D::State)).eq(pending()))
        .and_where(Expr::col((d, D::NextAttemptAt)).lte(now))
        .and_where(leased_by_none)
        .to_owned();
    let query = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .filter(webhook_endpoint::Column::Disabled.eq(false))
        .filter(Expr::exists(due_here));
    stable::id_lists(busy).fold(query, |query, list| {
        query.filter(webhook_endpoint::Column::Id.is_not_in(list))
    })
}

/// The payloads of these messages, by message id.
pub async fn payloads(
    db: &impl ConnectionTrait,
    message_ids: &[i64],
) -> Result<Vec<(i64, Payload)>> {
    let mut payloads = Vec::with_capacity(message_ids.len());
    for list in stable::id_lists(message_ids) {
        let rows = message::Entity::find()
            .select_only()
            .columns([
                message::Column::Id,
                message::Column::WebhookId,
                message::Column::Body,
            ])
            .filter(message::Column::Id.is_in(list))
            .into_tuple::<(i64, String, String)>()
            .all(db)
            .await
            .map_err(Error::from_db_err)?;
        payloads.extend(
            rows.into_iter()
                .map(|(id, webhook_id, body)| (id, Payload { webhook_id, body })),
        );
    }
    Ok(payloads)
}

/// `endpoint`'s deliveries due at `now`, oldest due first: pending, not leased,
/// endpoint enabled, and no earlier undelivered one of the same ordering key.
///
/// The ordering check probes the partial index of pending deliveries
/// (`ix_deliveries_pending_order`) once per candidate. On PostgreSQL `OFFSET 0` keeps
/// the check a per-row probe: turned into an anti join, it was planned as one scan
/// of the endpoint's whole pending range per candidate whenever the statistics
/// thought few deliveries pending (a fresh table, or one that is usually drained),
/// and a claim of 256 from a backlog of 10,000 took 0.9 s instead of 2 ms.
fn due(now: DateTime<Utc>, endpoint: i64, backend: DbBackend) -> sea_orm::Select<delivery::Entity> {
    let fence = if backend == DbBackend::Postgres {
        " OFFSET 0"
    } else {
        ""
    };
    delivery::Entity::find()
        .filter(delivery::Column::EndpointId.eq(endpoint))
        .filter(Expr::col((delivery::Entity, delivery::Column::State)).eq(pending()))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(delivery::Column::LeaseExpiresAt.is_null())
                .add(delivery::Column::LeaseExpiresAt.lt(now)),
        )
        .filter(Expr::cust(
            "deliveries.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE disabled = false)",
        ))
        .filter(Expr::cust(format!(
            "NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = deliveries.endpoint_id \
             AND p.ordering_key = deliveries.ordering_key AND p.id < deliveries.id AND p.state = '{}'{fence})",
            DeliveryState::Pending.as_str()
        )))
        // Walks the endpoint's range of the due index in its own order, so a claim
        // stops after its batch however long the backlog is.
        .order_by_asc(delivery::Column::NextAttemptAt)
        .order_by_asc(delivery::Column::Id)
}

/// Extends `owner`'s leases on the deliveries it still holds until `until`; a lease
/// another dispatcher has taken over in the meantime stays with it. Answers how
/// many were renewed.
pub async fn renew(
    txn: &impl Write,
    owner: &str,
    ids: &[i64],
    until: DateTime<Utc>,
) -> Result<u64> {
    let mut renewed = 0;
    for list in stable::id_lists(ids) {
        renewed += delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseExpiresAt, Expr::value(until))
            .filter(delivery::Column::Id.is_in(list))
            .filter(delivery::Column::LeaseOwner.eq(owner))
            .exec(txn)
            .await?
            .rows_affected;
    }
    Ok(renewed)
}

/// Which of `ids` `owner` leases now.
pub async fn leased_by(
    db: &impl ConnectionTrait,
    owner: &str,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    use sea_orm::QuerySelect;
    let mut mine = std::collections::HashSet::new();
    for list in stable::id_lists(ids) {
        let found: Vec<i64> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(delivery::Column::Id.is_in(list))
            .filter(delivery::Column::LeaseOwner.eq(owner))
            .into_tuple()
            .all(db)
            .await?;
        mine.extend(found);
    }
    Ok(mine)
}

/// An update of the deliveries `owner` still leases among `ids` that ends the lease.
fn without_lease(owner: &str, ids: Vec<i64>) -> sea_orm::UpdateMany<delivery::Entity> {
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            delivery::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.is_in(ids))
        .filter(delivery::Column::LeaseOwner.eq(owner))
}

/// Gives claimed deliveries back at once, for another round or another dispatcher.
pub async fn release(txn: &impl Write, owner: &str, ids: &[i64]) -> Result<()> {
    for list in stable::id_lists(ids) {
        without_lease(owner, list).exec(txn).await?;
    }
    Ok(())
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// The delivery's state afterwards, and when it is pending, its next attempt.
    pub state: DeliveryState,
    pub next_attempt_at: DateTime<Utc>,
    /// A request an outbound mapping rendered at this attempt (the delivery had
    /// none): kept, so that later attempts send the same bytes.
    pub rendered: Option<super::outbox::Rendered>,
}

/// How a delivery's row changes after an attempt; deliveries that end alike (the
/// common case: delivered at the first attempt with the same status) share one
/// UPDATE.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Outcome<'a> {
    state: DeliveryState,
    attempt: i32,
    status_code: Option<u16>,
    error: Option<&'a str>,
    next_attempt_at: DateTime<Utc>,
}

/// Logs the attempts and moves each delivery on, where `owner` still holds its
/// lease, all in one transaction: the dispatcher's group commit.
pub async fn record_attempts(
    txn: &impl Write,
    owner: &str,
    records: &[AttemptRecord],
) -> Result<()> {
    let now = Utc::now();
    for chunk in stable::chunks(records) {
        delivery_attempt::Entity::insert_many(chunk.iter().map(|r| {
            delivery_attempt::ActiveModel {
                delivery_id: Set(r.delivery_id),
                attempt: Set(r.attempt),
                attempted_at: Set(r.attempted_at),
                status_code: Set(r.status_code.map(i32::from)),
                duration_ms: Set(r.duration_ms),
                response_body: Set(r.response_body.clone()),
                error: Set(r.error.clone()),
                ..Default::default()
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    let mut alike: BTreeMap<Outcome<'_>, Vec<i64>> = BTreeMap::new();
    for r in records {
        let outcome = Outcome {
            state: r.state,
            attempt: r.attempt,
            status_code: r.status_code,
            error: r.error.as_deref(),
            // Only a pending delivery's next attempt means anything.
            next_attempt_at: if r.state == DeliveryState::Pending {
                r.next_attempt_at
            } else {
                now
            },
        };
        alike.entry(outcome).or_default().push(r.delivery_id);
    }
    for (outcome, ids) in alike {
        for list in stable::id_lists(&ids) {
            set_outcome(txn, owner, &outcome, list, now).await?;
        }
    }
    for r in records {
        if let Some(rendered) = &r.rendered {
            delivery::Entity::update_many()
                .col_expr(delivery::Column::Body, Expr::value(rendered.body.clone()))
                .col_expr(
                    delivery::Column::Request,
                    Expr::value(rendered.request.clone()),
                )
                .filter(delivery::Column::Id.eq(r.delivery_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

async fn set_outcome(
    txn: &impl Write,
    owner: &str,
    outcome: &Outcome<'_>,
    ids: Vec<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    without_lease(owner, ids)
        .col_expr(delivery::Column::State, Expr::value(outcome.state.as_str()))
        .col_expr(delivery::Column::Attempts, Expr::value(outcome.attempt))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(outcome.next_attempt_at),
        )
        .col_expr(
            delivery::Column::LastStatus,
            Expr::value(outcome.status_code.map(i32::from)),
        )
        .col_expr(
            delivery::Column::LastError,
            Expr::value(outcome.error.map(str::to_string)),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .exec(txn)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// The delivery queue as `/metrics` shows it, over every business.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Deliveries waiting for an attempt (first or retry).
    pub pending: u64,
    /// When the oldest of them was written.
    pub oldest_pending: Option<DateTime<Utc>>,
    /// Deliveries given up after their last attempt (dead letters).
    pub failed: u64,
    /// Endpoints with a delivery waiting for a retry: their last attempt failed.
    pub failing_endpoints: u64,
}

/// Counts the delivery queue.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<Backlog> {
    use delivery::Column as C;
    use sea_orm::{PaginatorTrait, QuerySelect};
    let pending = delivery::Entity::find()
        .filter(C::State.eq(DeliveryState::Pending))
        .count(db)
        .await
        .map_err(Error::from_db_err)?;
    let oldest_pending: Option<DateTime<Utc>> = delivery::Entity::find()
        .select_only()
        .column(C::CreatedAt)
        .filter(C::State.eq(DeliveryState::Pending))
        .order_by_asc(C::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await
        .map_err(Error::from_db_err)?;
    let failed = delivery::Entity::find()
        .filter(C::State.eq(DeliveryState::Failed))
        .count(db)
        .await
        .map_err(Error::from_db_err)?;
    let failing: Vec<i64> = delivery::Entity::find()
        .select_only()
        .column(C::EndpointId)
        .distinct()
        .filter(C::State.eq(DeliveryState::Pending))
        .filter(Expr::col(C::Attempts).gt(Expr::col(C::AttemptsBeforeReplay)))
        .into_tuple()
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(Backlog {
        pending,
        oldest_pending,
        failed,
        failing_endpoints: failing.len() as u64,
    })
}

/// The business's deliveries waiting for an attempt and those given up
/// (dead letters), across its endpoints.
pub async fn business_backlog(db: &impl ConnectionTrait, business_id: i64) -> Result<(u64, u64)> {
    use delivery::Column as C;
    use sea_orm::PaginatorTrait;
    let endpoints = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::BusinessId.eq(business_id))
        .to_owned();
    let count = |state: DeliveryState| {
        delivery::Entity::find()
            .filter(C::State.eq(state))
            .filter(C::EndpointId.in_subquery(endpoints.clone()))
            .count(db)
    };
    let pending = count(DeliveryState::Pending)
        .await
        .map_err(Error::from_db_err)?;
    let failed = count(DeliveryState::Failed)
        .await
        .map_err(Error::from_db_err)?;
    Ok((pending, failed))
}
