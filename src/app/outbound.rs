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
use crate::domain::EventType;
use crate::domain::{PublicId, Scope};
use crate::error::{Error, ProblemCode, Result};
use crate::ingest::{Incoming, Source};
use crate::outbound::{Explained, TargetSummary};
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
        let principal = Principal::ingesting_for(business.id, business.slug.clone());
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

/// The outbound targets of the key's business (scope `read`).
pub fn targets(app: &App, who: &Principal) -> Result<Vec<TargetSummary>> {
    who.require(Scope::Read)?;
    Ok(app.outbound.targets_of(&who.business_slug))
}

/// What each mapping of the key's business makes of `event` (a webhook body:
/// `type`, `timestamp`, `data`), without sending (scope `read`). The event is taken
/// as the business's own: `data.business` is set to it.
pub fn explain(app: &App, who: &Principal, mut event: Value) -> Result<Vec<Explained>> {
    who.require(Scope::Read)?;
    let invalid = |path: &str, detail: String| {
        Error::Invalid {
        code: ProblemCode::ValidationFailed,
        detail: "the body is not an event: give a webhook body with `type` and `data` (examples at GET /v1/webhooks/event-types)".into(),
        errors: vec![crate::error::FieldError::new(path, detail)],
    }
    };
    let Some(kind) = event["type"].as_str() else {
        return Err(invalid(
            "$.type",
            "the event type, such as `shipment.status_changed`".into(),
        ));
    };
    if EventType::parse(kind).is_none() {
        let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        return Err(invalid(
            "$.type",
            format!(
                "`{kind}` is not an event type; the types are: {}",
                known.join(", ")
            ),
        ));
    }
    let Some(data) = event.get_mut("data").and_then(Value::as_object_mut) else {
        return Err(invalid("$.data", "the event's data: an object".into()));
    };
    data.insert("business".into(), Value::String(who.business_slug.clone()));
    Ok(app.outbound.explain(&event))
}
