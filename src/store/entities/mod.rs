//! sea-orm entities, one module per table.

pub mod api_key;
pub mod business;
pub mod dock;
pub mod facility;
pub mod inbound_payload;
pub mod order;
pub mod order_item;
pub mod shipment;
pub mod shipment_status_event;
