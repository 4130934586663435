//! Batch files: when a batched mapping's period ends, the events it gathered (each
//! event's part, kept with the change that caused it) become one file, one
//! delivery, which then goes like any other: retries with the same bytes, dead
//! letters, replay.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::outbound::Outbound;
use crate::store::entities::{outbound_batch_part, webhook_endpoint};
use crate::store::outbox;

use super::{Dispatcher, lock};

/// How many parts one look reads at most; a larger backlog is taken over several.
const PARTS_PER_LOOK: u64 = 5000;
/// How often the dispatcher looks for batches whose period has ended.
pub(super) const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Dispatcher {
    /// Makes the file of each batch whose period has ended, at most every
    /// [`LOOK_EVERY`]; true when it made one.
    pub(super) async fn make_batches(&self) -> bool {
        let inner = &self.inner;
        {
            let mut last = lock(&inner.batches_looked);
            if last.is_some_and(|at| at.elapsed() < LOOK_EVERY) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let parts = match outbox::due_batch_parts(&inner.db, Utc::now(), PARTS_PER_LOOK).await {
            Ok(parts) => parts,
            Err(e) => {
                tracing::warn!(error = %e.report(), "cannot read the outbound batches that are due");
                return false;
            }
        };
        let mut batches: BTreeMap<(i64, String, DateTime<Utc>), Vec<outbound_batch_part::Model>> =
            BTreeMap::new();
        for part in parts {
            batches
                .entry((part.endpoint_id, part.mapping.clone(), part.due_at))
                .or_default()
                .push(part);
        }
        let mut made = false;
        for ((endpoint_id, mapping, due_at), parts) in batches {
            match self.make_batch(endpoint_id, &mapping, due_at, &parts).await {
                Ok(done) => made |= done,
                Err(e) => tracing::warn!(
                    endpoint = endpoint_id,
                    mapping,
                    error = %e.report(),
                    "cannot make an outbound batch file; trying again"
                ),
            }
        }
        made
    }

    async fn make_batch(
        &self,
        endpoint_id: i64,
        mapping: &str,
        due_at: DateTime<Utc>,
        parts: &[outbound_batch_part::Model],
    ) -> crate::error::Result<bool> {
        let inner = &self.inner;
        let Some(endpoint) = webhook_endpoint::Entity::find_by_id(endpoint_id)
            .one(&inner.db)
            .await
            .map_err(crate::error::Error::from_db_err)?
        else {
            return Ok(false);
        };
        let name = endpoint.outbound.clone().unwrap_or_default();
        let start = parts.first().map_or(due_at, |p| p.period_start);
        let texts: Vec<&str> = parts.iter().map(|p| p.documents.as_str()).collect();
        let target = inner.outbound.target(&name);
        let found = target.as_ref().and_then(|t| {
            t.mappings
                .iter()
                .find(|m| m.name == mapping)
                .map(|m| (t, m))
        });
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let bare = || {
            json!({"type": "outbound.batch", "timestamp": stamp(due_at), "data": {
                "target": name, "mapping": mapping, "period_start": stamp(start),
                "period_end": stamp(due_at), "events": parts.len()}})
        };
        let (envelope, rendered) = match found {
            Some((target, m)) => match Outbound::render_batch(target, m, &texts, start, due_at) {
                Ok((envelope, rendered)) => (envelope, Ok(rendered)),
                Err(why) => (bare(), Err(why)),
            },
            None => (
                bare(),
                Err(format!(
                    "outbound target `{name}` has no mapping `{mapping}` any more: the batch of {} events cannot be written",
                    parts.len()
                )),
            ),
        };
        let rendered = rendered.map_err(|why| {
            let documents: Vec<serde_json::Value> = texts
                .iter()
                .map(|t| serde_json::from_str(t).unwrap_or_else(|_| json!(t)))
                .collect();
            (why, serde_json::Value::Array(documents).to_string())
        });
        let ids: Vec<i64> = parts.iter().map(|p| p.id).collect();
        let txn = inner.writes.begin(&inner.db).await?;
        let written = outbox::write_batch(
            &txn,
            &endpoint,
            &ids,
            &envelope,
            format!("batch:{mapping}"),
            rendered,
        )
        .await?;
        if written {
            txn.commit().await?;
            metrics::counter!("freightgate_outbound_batches_total", "target" => name).increment(1);
        } else {
            // Another dispatcher made it first.
            txn.rollback().await?;
        }
        Ok(written)
    }
}
