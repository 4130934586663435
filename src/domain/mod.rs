//! The canonical model's value types: they can only hold valid values.

mod enums;
mod event;
mod ids;
mod master;
mod party;
pub mod public_id;
mod quantity;
mod text;

pub use enums::*;
pub use event::EventType;
pub use ids::{DeliveryId, EndpointId, Id, OrderId, ShipmentId};
pub use master::*;
pub use party::*;
pub use public_id::{IdKey, PublicId};
pub use quantity::{Measure, Quantity};
pub use text::*;
