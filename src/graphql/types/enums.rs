//! GraphQL enums. Most mirror the domain's; the legacy shipping direction and
//! the statuses `updateShipment` accepts are the legacy API's own.

use async_graphql::Enum;

use crate::domain;

/// Direction of a shipment in legacy terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ShippingDirection {
    /// Outbound.
    Shipping,
    /// Inbound.
    Receiving,
    Mixed,
    Unknown,
}

impl From<domain::ShipmentDirection> for ShippingDirection {
    fn from(value: domain::ShipmentDirection) -> Self {
        match value {
            domain::ShipmentDirection::Outbound => Self::Shipping,
            domain::ShipmentDirection::Inbound => Self::Receiving,
            domain::ShipmentDirection::Mixed => Self::Mixed,
            domain::ShipmentDirection::Unknown => Self::Unknown,
        }
    }
}

impl From<ShippingDirection> for domain::ShipmentDirection {
    fn from(value: ShippingDirection) -> Self {
        match value {
            ShippingDirection::Shipping => Self::Outbound,
            ShippingDirection::Receiving => Self::Inbound,
            ShippingDirection::Mixed => Self::Mixed,
            ShippingDirection::Unknown => Self::Unknown,
        }
    }
}

/// The statuses a legacy integration may set with `updateShipment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UpdateShipmentStatus {
    Scheduled,
    AtFacility,
    DoorAssigned,
    CheckedOut,
}

impl From<UpdateShipmentStatus> for domain::ShipmentStatus {
    fn from(value: UpdateShipmentStatus) -> Self {
        match value {
            UpdateShipmentStatus::Scheduled => Self::Scheduled,
            UpdateShipmentStatus::AtFacility => Self::AtFacility,
            UpdateShipmentStatus::DoorAssigned => Self::DoorAssigned,
            UpdateShipmentStatus::CheckedOut => Self::CheckedOut,
        }
    }
}

/// Where a shipment is in its visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::ShipmentStatus")]
pub enum ShipmentStatus {
    New,
    Scheduled,
    AtFacility,
    DoorAssigned,
    Loading,
    Unloading,
    Loaded,
    Unloaded,
    Departed,
    CheckedOut,
    Cancelled,
}

/// Direction of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::OrderDirection")]
pub enum OrderDirection {
    Inbound,
    Outbound,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::OrderStatus")]
pub enum OrderStatus {
    Created,
    Scheduled,
    Completed,
    Cancelled,
}

/// Unit of an item's quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::QuantityUnit")]
pub enum QuantityUnit {
    Pallet,
    Case,
    Unit,
}

/// Unit of an item's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::WeightUnit")]
pub enum WeightUnit {
    Pound,
    Kilogram,
}

/// Unit of an item's dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::DimensionUnit")]
pub enum DimensionUnit {
    Centimeter,
    Inch,
}

/// Kind of an attached document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::DocumentType")]
pub enum DocumentType {
    Cmr,
    Pod,
    Bol,
    Label,
    Customs,
    Other,
}

/// How urgent an exception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::ExceptionPriority")]
pub enum ExceptionPriority {
    Low,
    Medium,
    High,
    Critical,
}

/// Whether a pallet was loaded or unloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "domain::PalletDirection")]
pub enum PalletDirection {
    Loading,
    Unloading,
}
