//! A unit of write work: one ingested item inside its savepoint. Within a unit the
//! events read the business's and facility's slugs and the business's webhook
//! endpoints once, not once per event, and the outbox messages the unit emits are
//! written together at its end, in multi-row statements, on the unit's own
//! connection: still inside the change's transaction, before it commits.
//!
//! A [`Unit`] is itself a [`Write`] connection: the store's write functions find its
//! memory through [`Write::unit`]. Outside a unit (a plain [`WriteTxn`]) every event
//! is written at once, as it is emitted.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::DatabaseTransaction;

use super::entities::webhook_endpoint;
use super::gate::{Write, WriteTxn, delegate_connection};
use super::outbox::{self, Pending};
use crate::error::{Error, Result};

/// What one unit remembers. Nothing here can change while the unit runs: the unit
/// neither renames businesses or facilities nor edits endpoints, and a unit that
/// rolls back takes its memory with it.
#[derive(Default)]
struct State {
    slugs: HashMap<(i64, Option<i64>), (String, Option<String>)>,
    endpoints: HashMap<i64, Arc<Vec<webhook_endpoint::Model>>>,
    dock_slugs: HashMap<i64, Option<String>>,
    pending: Vec<Pending>,
}

/// A unit's memory. The lock is never held across an await.
#[derive(Default)]
pub struct Memory(Mutex<State>);

impl Memory {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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

/// One unit of work on a savepoint of its write transaction. Dropped without
/// [`Unit::commit`], its writes roll back with the outbox messages it emitted.
pub struct Unit {
    txn: DatabaseTransaction,
    router: Option<Arc<dyn outbox::Router>>,
    memory: Memory,
    /// The enclosing transaction's mark of written deliveries.
    wrote_deliveries: Arc<AtomicBool>,
}

delegate_connection!(Unit, txn);

impl Write for Unit {
    fn unit(&self) -> Option<&Memory> {
        Some(&self.memory)
    }

    fn router(&self) -> Option<&Arc<dyn outbox::Router>> {
        self.router.as_ref()
    }

    fn wrote_deliveries(&self) {
        self.wrote_deliveries.store(true, Ordering::Relaxed);
    }
}

impl Unit {
    /// Begins a unit inside `txn`.
    pub async fn begin(txn: &WriteTxn) -> Result<Unit> {
        let savepoint = txn.savepoint().await?;
        Ok(Unit {
            txn: savepoint.txn,
            router: savepoint.router,
            memory: Memory::default(),
            wrote_deliveries: savepoint.wrote_deliveries,
        })
    }

    /// Writes the outbox messages the unit emitted and releases its savepoint. When
    /// they would create more deliveries than `budget` has left, nothing of the unit
    /// is kept and the answer is `too_many_deliveries`.
    pub async fn commit(self, budget: &mut DeliveryBudget) -> Result<()> {
        let pending = std::mem::take(&mut self.memory.state().pending);
        let deliveries: usize = pending.iter().map(Pending::deliveries).sum();
        if deliveries > budget.left {
            return Err(Error::TooManyDeliveries { max: budget.max });
        }
        budget.left -= deliveries;
        outbox::write_pending(&self, pending).await?;
        Ok(self.txn.commit().await?)
    }

    /// Undoes what the unit wrote; its emitted messages are never written.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }
}

/// Queues an emitted message for the end of `db`'s unit; gives it back outside one.
pub(super) fn defer(db: &impl Write, pending: Pending) -> Option<Pending> {
    match db.unit() {
        Some(memory) => {
            memory.state().pending.push(pending);
            None
        }
        None => Some(pending),
    }
}

/// `key`'s entry in `db`'s unit memory, else what `read` finds (then remembered).
async fn remembered<K, V, F>(
    db: &impl Write,
    map: fn(&mut State) -> &mut HashMap<K, V>,
    key: K,
    read: impl FnOnce() -> F,
) -> Result<V>
where
    K: std::hash::Hash + Eq,
    V: Clone,
    F: Future<Output = Result<V>>,
{
    if let Some(found) = db
        .unit()
        .and_then(|m| map(&mut m.state()).get(&key).cloned())
    {
        return Ok(found);
    }
    let found = read().await?;
    if let Some(memory) = db.unit() {
        map(&mut memory.state()).insert(key, found.clone());
    }
    Ok(found)
}

/// The slugs of a business and one of its facilities, read once per unit.
pub(super) async fn slugs<F>(
    db: &impl Write,
    key: (i64, Option<i64>),
    read: impl FnOnce() -> F,
) -> Result<(String, Option<String>)>
where
    F: Future<Output = Result<(String, Option<String>)>>,
{
    remembered(db, |s| &mut s.slugs, key, read).await
}

/// A dock's slug, read once per unit.
pub(super) async fn dock_slug<F>(
    db: &impl Write,
    id: i64,
    read: impl FnOnce() -> F,
) -> Result<Option<String>>
where
    F: Future<Output = Result<Option<String>>>,
{
    remembered(db, |s| &mut s.dock_slugs, id, read).await
}

/// Forgets the business's endpoints, after a row was added for an outbound target.
pub(super) fn forget_endpoints(db: &impl Write, business_id: i64) {
    if let Some(memory) = db.unit() {
        memory.state().endpoints.remove(&business_id);
    }
}

/// The business's enabled endpoints, read once per unit.
pub(super) async fn endpoints<F>(
    db: &impl Write,
    business_id: i64,
    read: impl FnOnce() -> F,
) -> Result<Arc<Vec<webhook_endpoint::Model>>>
where
    F: Future<Output = Result<Vec<webhook_endpoint::Model>>>,
{
    remembered(
        db,
        |s| &mut s.endpoints,
        business_id,
        || async { Ok(Arc::new(read().await?)) },
    )
    .await
}
