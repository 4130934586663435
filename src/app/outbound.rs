//! Partners' answers to outbound deliveries, taken through the ingest rules.
//!
//! A mapping with `reply = true` hands the partner's 2xx answer back: it becomes a
//! payload of the target's business, recorded with the delivery it answered (source
//! `reply`), shaped so that a rule can find both what was sent and what came back:
//!
//! ```json
//! { "outbound_reply": { "target": "…", "mapping": "…", "delivery": 123, "status": 201 },
//!   "event": { "type": "…", "timestamp": "…", "data": { … } },
//!   "reply": { … the partner's JSON (or its text) … } }
//! ```

use serde_json::{Value, json};

use super::App;
use super::ingest::{Answer, IdempotencyKey};
use crate::domain::{PublicId, Scope};
use crate::ingest::{Incoming, Source};
use crate::store::keys::Principal;
use crate::store::tenancy;
use crate::webhooks::dispatcher::{Replies, Reply};

/// Takes replies through this gateway's rules.
pub struct ReplyIngest(pub App);

/// The payload a reply becomes.
pub fn reply_payload(reply: &Reply) -> Value {
    let event: Value = serde_json::from_str(&reply.event).unwrap_or(Value::Null);
    let text = String::from_utf8_lossy(&reply.body);
    let body =
        serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.into_owned()));
    json!({
        "outbound_reply": {
            "target": reply.target,
            "mapping": reply.mapping,
            "delivery": PublicId::from(reply.delivery_id),
            "status": reply.status,
        },
        "event": event,
        "reply": body,
    })
}

#[async_trait::async_trait]
impl Replies for ReplyIngest {
    async fn take(&self, reply: Reply) -> Result<(), String> {
        let app = &self.0;
        let business = tenancy::business_by_id(&app.db, reply.business_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the target's business no longer exists")?;
        let principal = Principal {
            key_id: 0,
            business_id: business.id,
            business_slug: business.slug.clone(),
            scopes: vec![Scope::Ingest],
            rate_limit_per_sec: None,
        };
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&reply.body))
        };
        // The same answer to the same delivery (a push sent again after a crash
        // before its attempt was recorded) is taken once.
        let key = IdempotencyKey::parse(&format!(
            "reply:{}:{}:{digest}",
            reply.target,
            PublicId::from(reply.delivery_id)
        ))
        .map_err(|e| e.to_string())?;
        let payload = serde_json::to_vec(&reply_payload(&reply)).map_err(|e| e.to_string())?;
        let incoming = Incoming {
            principal: &principal,
            content_type: Some("application/json"),
            body: payload.into(),
            key: None,
            source: Source::Reply {
                target: reply.target.clone(),
                delivery: reply.delivery_id,
            },
        };
        match super::ingest::ingest(app, incoming, Some(key)).await {
            Ok(Answer::Fresh(ack)) if ack.refusal.is_none() && ack.status().is_success() => {
                metrics::counter!("freightgate_outbound_replies_total", "target" => reply.target.clone(), "outcome" => "taken").increment(1);
                Ok(())
            }
            Ok(Answer::Fresh(ack)) => {
                metrics::counter!("freightgate_outbound_replies_total", "target" => reply.target.clone(), "outcome" => "refused").increment(1);
                Err(format!(
                    "the rules answered {}: {}",
                    ack.status().as_u16(),
                    ack.body()
                ))
            }
            Ok(Answer::Replayed { .. }) => Ok(()),
            Err(e) => {
                metrics::counter!("freightgate_outbound_replies_total", "target" => reply.target.clone(), "outcome" => "refused").increment(1);
                Err(e.to_string())
            }
        }
    }
}
