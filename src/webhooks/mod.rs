//! Signed webhook pushes (Standard Webhooks): signing, the SSRF guard and the
//! dispatcher that delivers the outbox.

pub mod dispatcher;
pub mod manage;
pub mod signer;
pub mod ssrf;

/// Event types an endpoint can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "shipment.created",
    "shipment.updated",
    "shipment.status_changed",
    "shipment.cancelled",
    "shipment.completed",
    "pallet.processed",
    "order.created",
    "order.updated",
    "order.cancelled",
    "document.attached",
    "exception.created",
];
