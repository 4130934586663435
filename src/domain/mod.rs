//! The canonical model's value types: they can only hold valid values.

mod enums;
mod event;
mod party;
mod quantity;
mod text;

pub use enums::*;
pub use event::EventType;
pub use party::*;
pub use quantity::Quantity;
pub use text::*;
