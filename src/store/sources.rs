//! Pull sources' state and runs: the committed cursor, pause, the run lease that lets
//! one instance run a source at a time, and the record of each run.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::entities::{source_item, source_run, source_state};
use super::gate::Write;
use crate::error::{Error, Result};

/// The state of `name`, created (unpaused, no cursor) when the source is new.
pub async fn ensure(db: &impl Write, name: &str, business_id: i64) -> Result<source_state::Model> {
    source_state::Entity::insert(source_state::ActiveModel {
        name: Set(name.to_string()),
        business_id: Set(business_id),
        cursor: Set(None),
        paused: Set(false),
        lease_owner: Set(None),
        lease_until: Set(None),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(source_state::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(Error::from_db_err)?;
    state(db, name)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("source state `{name}` vanished")))
}

/// The state of `name`, if it ever ran or was paused.
pub async fn state(db: &impl ConnectionTrait, name: &str) -> Result<Option<source_state::Model>> {
    source_state::Entity::find_by_id(name.to_string())
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Every source's state.
pub async fn states(db: &impl ConnectionTrait) -> Result<Vec<source_state::Model>> {
    source_state::Entity::find()
        .order_by_asc(source_state::Column::Name)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Moves the committed cursor of `name` (in the transaction that stores the page).
pub async fn advance(db: &impl Write, name: &str, cursor: &str) -> Result<()> {
    source_state::Entity::update_many()
        .col_expr(
            source_state::Column::Cursor,
            Expr::value(cursor.to_string()),
        )
        .col_expr(source_state::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(source_state::Column::Name.eq(name))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// The digests stored for the items of `name` with these keys, by key, in one
/// statement per 256 keys (lists padded to a few fixed lengths, see
/// [`super::stable`]; the statement is [`digests_statement`]).
pub async fn digests(
    db: &impl ConnectionTrait,
    name: &str,
    keys: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::with_capacity(keys.len());
    for list in super::stable::id_lists(keys) {
        let Some(statement) = digests_statement(db.get_database_backend(), name, &list) else {
            continue;
        };
        let rows = source_item::Model::find_by_statement(statement)
            .all(db)
            .await
            .map_err(Error::from_db_err)?;
        out.extend(rows.into_iter().map(|r| (r.item_key, r.digest)));
    }
    Ok(out)
}

/// The lookup of the digests of `keys`; `None` for no keys.
///
/// One equality lookup per key joined by `UNION ALL`, as
/// [`super::orders::by_numbers_statement`] does for orders: each part is a seek of the
/// (source, item key) primary key under any plan. With `item_key IN (…)` and no
/// statistics yet (a new source's first runs, before autovacuum analyzed it),
/// PostgreSQL scanned every row of the source for each page, a cost that grew with
/// every page stored.
pub fn digests_statement(
    backend: sea_orm::DbBackend,
    name: &str,
    keys: &[&str],
) -> Option<sea_orm::Statement> {
    super::stable::union_all(
        backend,
        keys.iter().map(|key| {
            source_item::Entity::find()
                .filter(source_item::Column::Source.eq(name))
                .filter(source_item::Column::ItemKey.eq(*key))
                .into_query()
        }),
    )
}

/// Records that items of `name` were stored with these (key, digest) pairs.
pub async fn remember(db: &impl Write, name: &str, seen: &[(&str, &str)]) -> Result<()> {
    let now = Utc::now();
    for chunk in seen.chunks(200) {
        let rows = chunk.iter().map(|(key, digest)| source_item::ActiveModel {
            source: Set(name.to_string()),
            item_key: Set((*key).to_string()),
            digest: Set((*digest).to_string()),
            seen_at: Set(now),
        });
        source_item::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([source_item::Column::Source, source_item::Column::ItemKey])
                    .update_columns([source_item::Column::Digest, source_item::Column::SeenAt])
                    .to_owned(),
            )
            .exec(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    Ok(())
}

/// Pauses or resumes `name`.
pub async fn set_paused(db: &impl Write, name: &str, paused: bool) -> Result<()> {
    source_state::Entity::update_many()
        .col_expr(source_state::Column::Paused, Expr::value(paused))
        .col_expr(source_state::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(source_state::Column::Name.eq(name))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// Takes (or renews) the run lease of `name` for `owner` until `until`, when no other
/// instance holds it; whether it was taken.
pub async fn lease(
    db: &impl Write,
    name: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    let taken = source_state::Entity::update_many()
        .col_expr(
            source_state::Column::LeaseOwner,
            Expr::value(owner.to_string()),
        )
        .col_expr(source_state::Column::LeaseUntil, Expr::value(until))
        .filter(source_state::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(source_state::Column::LeaseUntil.is_null())
                .add(source_state::Column::LeaseUntil.lt(now))
                .add(source_state::Column::LeaseOwner.eq(owner)),
        )
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(taken.rows_affected == 1)
}

/// Gives the run lease of `name` back, if `owner` holds it.
pub async fn release(db: &impl Write, name: &str, owner: &str) -> Result<()> {
    source_state::Entity::update_many()
        .col_expr(
            source_state::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            source_state::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(source_state::Column::Name.eq(name))
        .filter(source_state::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// Records the start of a run.
pub async fn start_run(
    db: &impl Write,
    name: &str,
    business_id: i64,
    trigger: &str,
    cursor: Option<String>,
) -> Result<source_run::Model> {
    source_run::ActiveModel {
        source: Set(name.to_string()),
        business_id: Set(business_id),
        trigger: Set(trigger.to_string()),
        outcome: Set("running".into()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        pages: Set(0),
        items: Set(0),
        created: Set(0),
        updated: Set(0),
        rejected: Set(0),
        unchanged: Set(0),
        cursor_before: Set(cursor.clone()),
        cursor_after: Set(cursor),
        error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from_db_err)
}

/// Records a run's progress or its end (`run.outcome` `succeeded` or `failed`).
pub async fn save_run(db: &impl Write, run: &source_run::Model) -> Result<()> {
    let mut active: source_run::ActiveModel = run.clone().into();
    for column in [
        source_run::Column::Outcome,
        source_run::Column::FinishedAt,
        source_run::Column::Pages,
        source_run::Column::Items,
        source_run::Column::Created,
        source_run::Column::Updated,
        source_run::Column::Rejected,
        source_run::Column::Unchanged,
        source_run::Column::CursorAfter,
        source_run::Column::Error,
    ] {
        active.reset(column);
    }
    active.update(db).await.map_err(Error::from_db_err)?;
    Ok(())
}

/// Runs still marked `running` whose instance is gone: ended as failed at start-up
/// of the source's next run, so the listing does not show them running forever.
pub async fn abandon_running(db: &impl Write, name: &str, now: DateTime<Utc>) -> Result<u64> {
    let done = source_run::Entity::update_many()
        .col_expr(source_run::Column::Outcome, Expr::value("failed"))
        .col_expr(source_run::Column::FinishedAt, Expr::value(now))
        .col_expr(
            source_run::Column::Error,
            Expr::value("the run stopped without finishing (the instance stopped or lost its lease); the next run resumed from the committed cursor"),
        )
        .filter(source_run::Column::Source.eq(name))
        .filter(source_run::Column::Outcome.eq("running"))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(done.rows_affected)
}

/// The runs of `name`, newest first, `limit` of them, before the run `before`.
pub async fn runs(
    db: &impl ConnectionTrait,
    name: &str,
    limit: u64,
    before: Option<i64>,
) -> Result<Vec<source_run::Model>> {
    let mut query = source_run::Entity::find().filter(source_run::Column::Source.eq(name));
    if let Some(before) = before {
        query = query.filter(source_run::Column::Id.lt(before));
    }
    query
        .order_by_desc(source_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// One run of `name`.
pub async fn run(
    db: &impl ConnectionTrait,
    name: &str,
    id: i64,
) -> Result<Option<source_run::Model>> {
    source_run::Entity::find_by_id(id)
        .filter(source_run::Column::Source.eq(name))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}
