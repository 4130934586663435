//! The dispatcher's writes besides claims: the attempt log, written many attempts
//! per transaction, lease renewal, and giving claims back.

use std::time::Instant;

use chrono::Utc;
use tokio::sync::mpsc;

use super::{Dispatcher, Outcome, RECORD_BATCH, RECORD_LINGER, lock};
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
            let turn = inner.writes.turn().await;
            if let Err(e) = dispatch::record_attempts(&inner.db, &inner.owner, &records).await {
                tracing::warn!(error = %e, attempts = records.len(), "cannot record webhook attempts; their leases will expire and they are retried");
            }
            // Still on the write turn: a renewal never counts a lease this batch has
            // just cleared.
            let mut room = false;
            {
                let mut lanes = lock(&inner.lanes);
                for (endpoint, record) in endpoints.iter().zip(&records) {
                    room |= lanes.done(*endpoint, record.delivery_id);
                }
            }
            drop(turn);
            if room {
                inner.room.notify_one();
            }
        }
    }

    /// Extends the leases of everything held, so deep lanes never outlive them.
    pub(super) async fn renew(&self) {
        let inner = &self.inner;
        let _turn = inner.writes.turn().await;
        let held = lock(&inner.lanes).held();
        if held.is_empty() {
            return;
        }
        let started = Instant::now();
        let lease = chrono::Duration::from_std(inner.settings.lease).unwrap_or_default();
        match dispatch::renew(&inner.db, &inner.owner, &held, Utc::now() + lease).await {
            Ok(renewed) => {
                *lock(&inner.leased_until) = started + inner.settings.lease;
                if renewed < held.len() as u64 {
                    // Leases ran out while renewals failed and another dispatcher took
                    // some over: what still waits here may be theirs now.
                    tracing::warn!(
                        lost = held.len() as u64 - renewed,
                        "webhook leases were taken over after they ran out; giving back what waits"
                    );
                    let waiting = lock(&inner.lanes).drain(None);
                    if let Err(e) = dispatch::release(&inner.db, &inner.owner, &waiting).await {
                        tracing::warn!(error = %e, "cannot give back webhook claims; they wait for their lease");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew webhook leases"),
        }
    }

    pub(super) async fn give_back(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let inner = &self.inner;
        let _turn = inner.writes.turn().await;
        if let Err(e) = dispatch::release(&inner.db, &inner.owner, ids).await {
            tracing::warn!(error = %e, "cannot give back webhook claims; they wait for their lease");
        }
    }
}
