//! A unit of write work: one ingested item inside its savepoint. Within a unit the
//! events read the business's and facility's slugs and the business's webhook
//! endpoints once, not once per event, and the outbox messages the unit emits are
//! written together at its end, in multi-row statements, on the unit's own
//! connection: still inside the change's transaction, before it commits.
//!
//! Outside a unit (GraphQL mutations, the dispatcher) every event is written at once,
//! as it is emitted.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use sea_orm::ConnectionTrait;

use super::entities::webhook_endpoint;
use super::outbox::{self, Pending};
use crate::error::{Error, Result};

tokio::task_local! {
    static UNIT: RefCell<Unit>;
}

/// What one unit remembers. Nothing here can change while the unit runs: the unit
/// neither renames businesses or facilities nor edits endpoints, and a savepoint that
/// rolls back takes its unit's memory with it.
#[derive(Default)]
struct Unit {
    slugs: HashMap<(i64, Option<i64>), (String, Option<String>)>,
    endpoints: HashMap<i64, Arc<Vec<webhook_endpoint::Model>>>,
    dock_slugs: HashMap<i64, Option<String>>,
    pending: Vec<Pending>,
}

/// How many webhook deliveries one payload may still create: a payload whose events
/// would fan out to more is refused (`too_many_deliveries`) before the rest are
/// written, so one payload cannot hold the writer for the time a million rows take.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryBudget {
    max: usize,
    left: usize,
}

impl DeliveryBudget {
    pub fn new(max: usize) -> Self {
        Self { max, left: max }
    }
}

/// Runs `work` as one unit on `db`, then writes the outbox messages it emitted. A unit
/// that failed writes none of them, nor does one whose deliveries exceed what is left
/// of `budget`.
pub async fn run<C, T, E>(
    db: &C,
    budget: &mut DeliveryBudget,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E>
where
    C: ConnectionTrait,
    E: From<Error>,
{
    let (result, pending) = UNIT
        .scope(RefCell::new(Unit::default()), async {
            let result = work.await;
            let pending = UNIT.with(|unit| std::mem::take(&mut unit.borrow_mut().pending));
            (result, pending)
        })
        .await;
    let value = result?;
    let deliveries: usize = pending.iter().map(Pending::deliveries).sum();
    if deliveries > budget.left {
        return Err(Error::TooManyDeliveries { max: budget.max }.into());
    }
    budget.left -= deliveries;
    outbox::write_pending(db, pending).await?;
    Ok(value)
}

/// Queues an emitted message for the unit's end; gives it back outside a unit.
pub(super) fn defer(pending: Pending) -> Option<Pending> {
    let mut slot = Some(pending);
    let _ = UNIT.try_with(|unit| {
        if let Some(p) = slot.take() {
            unit.borrow_mut().pending.push(p);
        }
    });
    slot
}

/// The slugs of a business and one of its facilities, read once per unit.
pub(super) async fn slugs<F>(
    key: (i64, Option<i64>),
    read: impl FnOnce() -> F,
) -> Result<(String, Option<String>)>
where
    F: Future<Output = Result<(String, Option<String>)>>,
{
    if let Ok(Some(found)) = UNIT.try_with(|unit| unit.borrow().slugs.get(&key).cloned()) {
        return Ok(found);
    }
    let found = read().await?;
    let _ = UNIT.try_with(|unit| unit.borrow_mut().slugs.insert(key, found.clone()));
    Ok(found)
}

/// A dock's slug, read once per unit.
pub(super) async fn dock_slug<F>(id: i64, read: impl FnOnce() -> F) -> Result<Option<String>>
where
    F: Future<Output = Result<Option<String>>>,
{
    if let Ok(Some(found)) = UNIT.try_with(|unit| unit.borrow().dock_slugs.get(&id).cloned()) {
        return Ok(found);
    }
    let found = read().await?;
    let _ = UNIT.try_with(|unit| unit.borrow_mut().dock_slugs.insert(id, found.clone()));
    Ok(found)
}

/// The business's enabled endpoints, read once per unit.
pub(super) async fn endpoints<F>(
    business_id: i64,
    read: impl FnOnce() -> F,
) -> Result<Arc<Vec<webhook_endpoint::Model>>>
where
    F: Future<Output = Result<Vec<webhook_endpoint::Model>>>,
{
    if let Ok(Some(found)) =
        UNIT.try_with(|unit| unit.borrow().endpoints.get(&business_id).cloned())
    {
        return Ok(found);
    }
    let found = Arc::new(read().await?);
    let _ = UNIT.try_with(|unit| {
        unit.borrow_mut()
            .endpoints
            .insert(business_id, found.clone())
    });
    Ok(found)
}
