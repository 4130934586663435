//! Subscriptions: `pushMessage` streams new pallet events and shipment completions.
//! One poller per process reads the outbox (so it sees messages written by every
//! instance) while anyone subscribes, stops when nobody does, and fans the messages
//! out to the subscriptions in memory: a thousand subscriptions cost one query per
//! poll, not a thousand. Subscriptions are capped per key and per process.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::context::{db, own_business, principal, slug};
use super::types::push::{LEGACY_TYPES, PushMessage, PushMessageSubscriptionFilter};
use crate::config::Config;
use crate::domain::Scope;
use crate::error::Error;
use crate::store::entities::message;
use crate::store::{Db, outbox, tenancy};

/// How often the poller looks for new messages.
const POLL: Duration = Duration::from_millis(250);

/// Messages one poll reads at most.
const POLL_BATCH: u64 = 500;

/// Messages a slow subscription may fall behind before it catches up from the
/// database instead.
const FANOUT_BUFFER: usize = 4096;

/// The process's subscriptions: their caps and the one poller that feeds them.
pub struct Subscriptions {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    sender: broadcast::Sender<Arc<message::Model>>,
    /// Whether the poller runs; held while it starts or stops.
    poller: tokio::sync::Mutex<bool>,
    open: Mutex<(usize, HashMap<i64, usize>)>,
    max_total: usize,
    max_per_key: usize,
}

/// One open subscription; it is counted until this is dropped.
struct Slot {
    inner: Arc<Inner>,
    key_id: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(count) = open.1.get_mut(&self.key_id) {
            *count -= 1;
            if *count == 0 {
                open.1.remove(&self.key_id);
            }
        }
    }
}

impl Subscriptions {
    pub fn new(db: Db, config: &Config) -> Self {
        let (sender, _) = broadcast::channel(FANOUT_BUFFER);
        Self {
            inner: Arc::new(Inner {
                db,
                sender,
                poller: tokio::sync::Mutex::new(false),
                open: Mutex::new((0, HashMap::new())),
                max_total: config.graphql_max_subscriptions,
                max_per_key: config.graphql_max_subscriptions_per_key,
            }),
        }
    }

    /// How many subscriptions are open.
    pub fn open(&self) -> usize {
        self.inner.open.lock().map(|o| o.0).unwrap_or(0)
    }

    fn take(&self, key_id: i64) -> Result<Slot, Error> {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= self.inner.max_total {
            return Err(Error::TooManySubscriptions {
                max: self.inner.max_total,
                setting: "graphql_max_subscriptions",
            });
        }
        let mine = open.1.get(&key_id).copied().unwrap_or(0);
        if mine >= self.inner.max_per_key {
            return Err(Error::TooManySubscriptions {
                max: self.inner.max_per_key,
                setting: "graphql_max_subscriptions_per_key",
            });
        }
        open.0 += 1;
        *open.1.entry(key_id).or_insert(0) += 1;
        Ok(Slot {
            inner: self.inner.clone(),
            key_id,
        })
    }

    /// A receiver of every new legacy message, starting the poller if it is not
    /// running. The poller's starting point is read before this returns, so a feed
    /// that reads its own starting point afterwards misses nothing in between.
    async fn receiver(&self) -> Result<broadcast::Receiver<Arc<message::Model>>, Error> {
        let receiver = self.inner.sender.subscribe();
        let mut running = self.inner.poller.lock().await;
        if !*running {
            let after = outbox::latest_message_id_of_all(&self.inner.db).await?;
            *running = true;
            tokio::spawn(poll(Arc::downgrade(&self.inner), after));
        }
        Ok(receiver)
    }
}

/// Reads new messages after `after` while anyone listens and sends them to every
/// subscription; ends when the last subscription is gone (the next one starts it
/// again) or the schema holding the subscriptions is.
async fn poll(inner: Weak<Inner>, mut after: i64) {
    loop {
        tokio::time::sleep(POLL).await;
        let Some(inner) = inner.upgrade() else { return };
        {
            let mut running = inner.poller.lock().await;
            if inner.sender.receiver_count() == 0 {
                *running = false;
                return;
            }
        }
        metrics::counter!("freightgate_graphql_subscription_polls_total").increment(1);
        let Ok(found) =
            outbox::legacy_messages_after(&inner.db, after, LEGACY_TYPES, POLL_BATCH).await
        else {
            continue;
        };
        for m in found {
            after = m.id;
            let _ = inner.sender.send(Arc::new(m));
        }
    }
}

struct Feed {
    db: Db,
    receiver: broadcast::Receiver<Arc<message::Model>>,
    business_id: i64,
    business_slug: String,
    facility: Option<(i64, String)>,
    after: i64,
    ready: VecDeque<PushMessage>,
    _slot: Slot,
}

impl Feed {
    async fn next(mut self) -> Option<(PushMessage, Feed)> {
        loop {
            if let Some(message) = self.ready.pop_front() {
                return Some((message, self));
            }
            match self.receiver.recv().await {
                Ok(m) => {
                    if m.business_id == self.business_id
                        && m.id > self.after
                        && self
                            .facility
                            .as_ref()
                            .is_none_or(|(id, _)| m.facility_id == Some(*id))
                    {
                        self.after = m.id;
                        let pushed = self.push_message((*m).clone()).await;
                        self.ready.push_back(pushed);
                    }
                }
                Err(RecvError::Lagged(_)) => self.catch_up().await,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Fell behind the fan-out: reads what it missed from the database.
    async fn catch_up(&mut self) {
        let facility_id = self.facility.as_ref().map(|(id, _)| *id);
        let query = outbox::MessageQuery {
            after_id: self.after,
            facility_id,
            types: Some(LEGACY_TYPES),
            ..Default::default()
        };
        let Ok(found) = outbox::messages_after(&self.db, self.business_id, &query, 1_000).await
        else {
            return;
        };
        for m in found {
            self.after = m.id;
            let pushed = self.push_message(m).await;
            self.ready.push_back(pushed);
        }
    }

    async fn push_message(&self, m: message::Model) -> PushMessage {
        let facility = match m.facility_id {
            Some(id) => tenancy::facility_by_id(&self.db, id)
                .await
                .ok()
                .flatten()
                .map(|f| f.slug),
            None => None,
        };
        PushMessage::new(m, &self.business_slug, facility)
    }
}

/// Every subscription.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// New pallet events and shipment completions of the business, as they happen.
    async fn push_message(
        &self,
        ctx: &Context<'_>,
        filter: PushMessageSubscriptionFilter,
    ) -> Result<impl Stream<Item = PushMessage>> {
        let who = principal(ctx, Scope::Read)?;
        own_business(who, &filter.business_slug)?;
        let db = db(ctx)?.clone();
        let facility = match filter.facility_slug.as_deref() {
            Some(name) => {
                let found = tenancy::find_facility(
                    &db,
                    who.business_id,
                    &slug("filter.facilitySlug", name)?,
                )
                .await?;
                Some(
                    found
                        .map(|f| (f.id, f.slug))
                        .unwrap_or((-1, name.to_string())),
                )
            }
            None => None,
        };
        let subscriptions = ctx.data::<Arc<Subscriptions>>()?;
        let slot = subscriptions.take(who.key_id)?;
        // Listen first, then read where the feed starts: nothing falls in between.
        let receiver = subscriptions.receiver().await?;
        let feed = Feed {
            after: outbox::latest_message_id(&db, who.business_id).await?,
            db,
            receiver,
            business_id: who.business_id,
            business_slug: who.business_slug.clone(),
            facility,
            ready: Default::default(),
            _slot: slot,
        };
        Ok(futures_util::stream::unfold(feed, Feed::next))
    }
}
