//! The dispatcher's writes besides claims: the attempt log, written many attempts
//! per transaction, lease renewal, and giving claims back.

use std::time::Instant;

use chrono::Utc;
use tokio::sync::mpsc;

use super::{Dispatcher, Outcome, RECORD_BATCH, RECORD_LINGER, lock};
use crate::error::Error;
use crate::store::dispatch::{self, AttemptRecord};

impl Dispatcher {
    /// Writes attempts as they come, many per transaction.
    pub(super) async fn record(self, mut outcomes: mpsc::UnboundedReceiver<Outcome>) {
        let inner = &self.inner;
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while outcomes.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            if batch.len() < RECORD_BATCH {
                tokio::time::sleep(RECORD_LINGER).await;
                while batch.len() < RECORD_BATCH
                    && let Ok(outcome) = outcomes.try_recv()
                {
                    batch.push(outcome);
                }
            }
            let (endpoints, records): (Vec<i64>, Vec<AttemptRecord>) =
                batch.drain(..).map(|o| (o.endpoint_id, o.record)).unzip();
            let recorded = match self.begin_own().await {
                Ok((own, txn)) => dispatch::record_attempts(&txn, &inner.owner, &records)
                    .await
                    .map(|()| (own, txn)),
                Err(e) => Err(e.into()),
            };
            // Still on the write turn (the transaction holds it): a renewal never
            // counts a lease this batch has just cleared.
            let mut room = false;
            {
                let mut lanes = lock(&inner.lanes);
                for (endpoint, record) in endpoints.iter().zip(&records) {
                    room |= lanes.done(*endpoint, record.delivery_id);
                }
            }
            let committed = match recorded {
                Ok((_own, txn)) => txn.commit().await.map_err(Error::from),
                Err(e) => Err(e),
            };
            if let Err(e) = committed {
                tracing::warn!(error = %e.report(), attempts = records.len(), "cannot record webhook attempts; their leases will expire and they are retried");
            }
            if room {
                inner.room.notify_one();
            }
        }
    }

    /// Extends the leases of everything held, so deep lanes never outlive them.
    pub(super) async fn renew(&self) {
        let inner = &self.inner;
        if lock(&inner.lanes).held().is_empty() {
            return;
        }
        let started = Instant::now();
        let lease = chrono::Duration::from_std(inner.settings.lease).unwrap_or_default();
        let renewed = async {
            let (_own, txn) = self.begin_own().await?;
            // Read on the write turn, so it never counts a lease the attempt log has
            // just cleared.
            let held = lock(&inner.lanes).held();
            let renewed = dispatch::renew(&txn, &inner.owner, &held, Utc::now() + lease).await?;
            if renewed < held.len() as u64 {
                // On PostgreSQL an attempt log may commit while this renewal runs:
                // the update waited for it and found those leases cleared, and the
                // log took them off `held` before committing. Only a delivery that
                // is neither leased here nor finished here was taken over.
                let mine = dispatch::leased_by(&txn, &inner.owner, &held).await?;
                let still_held: std::collections::HashSet<i64> =
                    lock(&inner.lanes).held().into_iter().collect();
                let lost = held
                    .iter()
                    .filter(|id| !mine.contains(id) && still_held.contains(id))
                    .count();
                if lost > 0 {
                    // Leases ran out while renewals failed and another dispatcher
                    // took some over: what still waits here may be theirs now.
                    tracing::warn!(
                        lost,
                        "webhook leases were taken over after they ran out; giving back what waits"
                    );
                    let waiting = lock(&inner.lanes).drain(None);
                    dispatch::release(&txn, &inner.owner, &waiting).await?;
                }
            }
            txn.commit().await?;
            Ok::<_, Error>(())
        }
        .await;
        match renewed {
            Ok(()) => *lock(&inner.leased_until) = started + inner.settings.lease,
            Err(e) => tracing::warn!(error = %e.report(), "cannot renew webhook leases"),
        }
    }

    pub(super) async fn give_back(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let inner = &self.inner;
        let released = async {
            let (_own, txn) = self.begin_own().await?;
            dispatch::release(&txn, &inner.owner, ids).await?;
            Ok::<_, Error>(txn.commit().await?)
        }
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e.report(), "cannot give back webhook claims; they wait for their lease");
        }
    }
}
