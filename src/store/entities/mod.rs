//! sea-orm entities, one module per table.

pub mod api_key;
pub mod business;
pub mod delivery;
pub mod delivery_attempt;
pub mod dock;
pub mod document;
pub mod exception;
pub mod facility;
pub mod idempotency_key;
pub mod inbound_body;
pub mod inbound_payload;
pub mod instance_setting;
pub mod master_record;
pub mod message;
pub mod order;
pub mod order_item;
pub mod outbound_batch_part;
pub mod pallet;
pub mod pallet_order;
pub mod reference;
pub mod shipment;
pub mod shipment_status_event;
pub mod source_item;
pub mod source_run;
pub mod source_state;
pub mod webhook_endpoint;
