//! Legacy push messages: the pallet events and shipment completions a WMS consumes,
//! pulled with `pushMessages` or streamed with the `pushMessage` subscription.

use async_graphql::{Enum, InputObject, SimpleObject};

use super::iso;
use crate::domain::EventType;
use crate::store::entities::message;

/// The outbox event types legacy clients know, and their names there.
pub const LEGACY_TYPES: &[&str] = &[
    EventType::PalletProcessed.as_str(),
    EventType::ShipmentCompleted.as_str(),
];

/// What a push message reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PushMessageType {
    /// A pallet loaded or unloaded (`pallet.processed`).
    PalletEvent,
    /// A shipment finished (`shipment.completed`).
    ShipmentComplete,
}

/// Which messages `pushMessages` returns.
#[derive(Debug, InputObject)]
pub struct PushMessageFilter {
    /// Messages written after this ISO 8601 time.
    pub since: String,
    pub business_slug: String,
    pub facility_slug: Option<String>,
}

/// Which messages the `pushMessage` subscription streams.
#[derive(Debug, InputObject)]
pub struct PushMessageSubscriptionFilter {
    pub business_slug: String,
    pub facility_slug: Option<String>,
}

/// One push message.
#[derive(Debug, Clone, SimpleObject)]
pub struct PushMessage {
    /// The message id (the `webhook-id` of its pushes).
    pub id: String,
    pub message_type: PushMessageType,
    /// The message envelope `{"type", "timestamp", "data"}` as a JSON string.
    pub message: String,
    pub sent_at: String,
    pub facility_slug: Option<String>,
    pub business_slug: String,
}

impl PushMessage {
    /// The legacy view of an outbox message.
    pub fn new(m: message::Model, business_slug: &str, facility_slug: Option<String>) -> Self {
        let message_type = if m.event_type == EventType::ShipmentCompleted.as_str() {
            PushMessageType::ShipmentComplete
        } else {
            PushMessageType::PalletEvent
        };
        Self {
            id: m.webhook_id,
            message_type,
            message: m.body,
            sent_at: iso(m.created_at),
            facility_slug,
            business_slug: business_slug.to_string(),
        }
    }
}
