//! A unit of write work: one ingested item inside its savepoint. Within a unit the
//! events read the business's and facility's slugs and the business's webhook
//! endpoints once, not once per event, and the outbox messages the unit emits are
//! written together at its end, in multi-row statements, on the unit's own
//! connection: still inside the change's transaction, before it commits.
//!
//! What a unit looked up (slugs, endpoints, facilities, docks) is handed on to the
//! next unit of its transaction when it commits, so a payload of many items, or a
//! batch of payloads, reads each once per transaction. A unit that rolls back takes
//! it with it: the next one starts from nothing.
//!
//! A [`Unit`] is itself a [`Write`] connection: the store's write functions find its
//! memory through [`Write::unit`]. Outside a unit (a plain [`WriteTxn`]) every event
//! is written at once, as it is emitted.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::DatabaseTransaction;

use super::entities::{dock, facility, webhook_endpoint};
use super::gate::{Write, WriteTxn, delegate_connection};
use super::outbox::{self, Pending};
use crate::error::{Error, Result};

/// What units look up. Nothing here changes inside a write transaction except
/// through the unit itself: no write path renames businesses, facilities or docks
/// or edits endpoints, and the one that adds an endpoint row (an outbound target's)
/// forgets the business's endpoints ([`forget_endpoints`]).
#[derive(Default)]
pub struct Lookups {
    slugs: HashMap<(i64, Option<i64>), (String, Option<String>)>,
    endpoints: HashMap<i64, Arc<Vec<webhook_endpoint::Model>>>,
    dock_slugs: HashMap<i64, Option<String>>,
    docks: HashMap<(i64, String), dock::Model>,
    facilities: HashMap<(i64, String), facility::Model>,
}

#[derive(Default)]
struct State {
    lookups: Lookups,
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

/// The lookups a write transaction's committed units handed on, waiting for its
/// next unit. Empty while a unit runs (it holds them) and after one rolled back.
#[derive(Clone, Default)]
pub struct Carried(Arc<Mutex<Lookups>>);

impl Carried {
    fn lookups(&self) -> MutexGuard<'_, Lookups> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self) -> Lookups {
        std::mem::take(&mut *self.lookups())
    }

    fn put(&self, lookups: Lookups) {
        *self.lookups() = lookups;
    }

    /// Forgets the business's endpoints (a row was added outside a unit).
    pub(super) fn forget_endpoints(&self, business_id: i64) {
        self.lookups().endpoints.remove(&business_id);
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
    /// Where the lookups go when the unit commits.
    carried: Carried,
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

    fn carried(&self) -> &Carried {
        &self.carried
    }
}

impl Unit {
    /// Begins a unit inside `txn`.
    pub async fn begin(txn: &WriteTxn) -> Result<Unit> {
        let savepoint = txn.savepoint().await?;
        let lookups = savepoint.carried.take();
        Ok(Unit {
            txn: savepoint.txn,
            router: savepoint.router,
            memory: Memory(Mutex::new(State {
                lookups,
                pending: Vec::new(),
            })),
            carried: savepoint.carried,
            wrote_deliveries: savepoint.wrote_deliveries,
        })
    }

    /// Writes the outbox messages the unit emitted and releases its savepoint, then
    /// hands its lookups on to the transaction's next unit. When the messages would
    /// create more deliveries than `budget` has left, nothing of the unit is kept and
    /// the answer is `too_many_deliveries`.
    pub async fn commit(self, budget: &mut DeliveryBudget) -> Result<()> {
        let pending = std::mem::take(&mut self.memory.state().pending);
        let deliveries: usize = pending.iter().map(Pending::deliveries).sum();
        if deliveries > budget.left {
            return Err(Error::TooManyDeliveries { max: budget.max });
        }
        budget.left -= deliveries;
        outbox::write_pending(&self, pending).await?;
        self.txn.commit().await?;
        self.carried
            .put(std::mem::take(&mut self.memory.state().lookups));
        Ok(())
    }

    /// Undoes what the unit wrote; its emitted messages are never written, and what
    /// it looked up is forgotten (it may name rows that are gone now).
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
    map: fn(&mut Lookups) -> &mut HashMap<K, V>,
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
        .and_then(|m| map(&mut m.state().lookups).get(&key).cloned())
    {
        return Ok(found);
    }
    let found = read().await?;
    if let Some(memory) = db.unit() {
        map(&mut memory.state().lookups).insert(key, found.clone());
    }
    Ok(found)
}

/// The slugs of a business and one of its facilities, read once per transaction.
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

/// A dock's slug, read once per transaction.
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
    match db.unit() {
        Some(memory) => {
            memory.state().lookups.endpoints.remove(&business_id);
        }
        None => db.carried().forget_endpoints(business_id),
    }
}

/// A facility of the business found (or made) by slug, once per transaction.
pub(super) async fn facility<F>(
    db: &impl Write,
    business_id: i64,
    slug: &str,
    read: impl FnOnce() -> F,
) -> Result<facility::Model>
where
    F: Future<Output = Result<facility::Model>>,
{
    remembered(
        db,
        |s| &mut s.facilities,
        (business_id, slug.to_string()),
        read,
    )
    .await
}

/// A dock of a facility found (or made) by slug, once per transaction; its slug is
/// then known by its id too, for the events that name it.
pub(super) async fn dock<F>(
    db: &impl Write,
    facility_id: i64,
    slug: &str,
    read: impl FnOnce() -> F,
) -> Result<dock::Model>
where
    F: Future<Output = Result<dock::Model>>,
{
    let found = remembered(db, |s| &mut s.docks, (facility_id, slug.to_string()), read).await?;
    if let Some(memory) = db.unit() {
        let slug = Some(found.slug.clone());
        memory.state().lookups.dock_slugs.insert(found.id, slug);
    }
    Ok(found)
}

/// The business's enabled endpoints, read once per transaction.
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
