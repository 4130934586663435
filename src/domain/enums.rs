//! Closed vocabularies of the canonical model, stored as their upper-case names.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveEnum, Iterable};
use serde::{Deserialize, Serialize};

/// Parses one of an enum's stored names, or says which names are accepted.
pub fn parse_enum<E>(value: &str) -> Result<E, String>
where
    E: ActiveEnum<Value = String> + Iterable,
{
    let wanted = value.trim().to_ascii_uppercase();
    E::iter().find(|e| e.to_value() == wanted).ok_or_else(|| {
        let accepted: Vec<String> = E::iter().map(|e| e.to_value()).collect();
        format!("`{value}` is not one of {}", accepted.join(", "))
    })
}

/// Whether a shipment brings goods in, takes them out, or both.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentDirection {
    #[sea_orm(string_value = "INBOUND")]
    Inbound,
    #[sea_orm(string_value = "OUTBOUND")]
    Outbound,
    #[sea_orm(string_value = "MIXED")]
    Mixed,
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// Where a shipment is in its visit to the facility.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    #[sea_orm(string_value = "NEW")]
    New,
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "AT_FACILITY")]
    AtFacility,
    #[sea_orm(string_value = "DOOR_ASSIGNED")]
    DoorAssigned,
    #[sea_orm(string_value = "LOADING")]
    Loading,
    #[sea_orm(string_value = "UNLOADING")]
    Unloading,
    #[sea_orm(string_value = "LOADED")]
    Loaded,
    #[sea_orm(string_value = "UNLOADED")]
    Unloaded,
    #[sea_orm(string_value = "DEPARTED")]
    Departed,
    #[sea_orm(string_value = "CHECKED_OUT")]
    CheckedOut,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Whether an order is received or shipped by the facility.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderDirection {
    #[sea_orm(string_value = "INBOUND")]
    Inbound,
    #[sea_orm(string_value = "OUTBOUND")]
    Outbound,
}

/// An order's life cycle.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    #[sea_orm(string_value = "CREATED")]
    Created,
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What an item's quantity counts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuantityUnit {
    #[sea_orm(string_value = "PALLET")]
    Pallet,
    #[sea_orm(string_value = "CASE")]
    Case,
    #[sea_orm(string_value = "UNIT")]
    Unit,
}

/// Unit of an item's weight.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WeightUnit {
    #[sea_orm(string_value = "KILOGRAM")]
    Kilogram,
    #[sea_orm(string_value = "POUND")]
    Pound,
}

/// Unit of an item's dimensions.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DimensionUnit {
    #[sea_orm(string_value = "CENTIMETER")]
    Centimeter,
    #[sea_orm(string_value = "INCH")]
    Inch,
}

/// What an API key may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Post payloads to the unified endpoint.
    #[sea_orm(string_value = "ingest")]
    Ingest,
    /// Read shipments, orders and messages.
    #[sea_orm(string_value = "read")]
    Read,
    /// Change data through the API (GraphQL mutations).
    #[sea_orm(string_value = "write")]
    Write,
    /// Manage webhook endpoints.
    #[sea_orm(string_value = "webhooks")]
    Webhooks,
    /// Administer the business.
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl Scope {
    /// The scopes a new key gets when none are named: all but `admin`.
    pub const DEFAULT: &'static [Scope] =
        &[Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks];

    /// Parses a comma-separated scope list such as `ingest,read`.
    pub fn parse_list(list: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope = Scope::iter()
                .find(|s| s.to_value() == name)
                .ok_or_else(|| {
                    let accepted: Vec<String> = Scope::iter().map(|s| s.to_value()).collect();
                    format!(
                        "unknown scope `{name}`; accepted scopes are {}",
                        accepted.join(", ")
                    )
                })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(scopes)
    }

    /// Renders scopes as the comma-separated list stored with a key.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.to_value())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The scope's name as written in keys and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Webhooks => "webhooks",
            Scope::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_parsing_lists_accepted_values() {
        assert_eq!(
            parse_enum::<ShipmentStatus>("at_facility"),
            Ok(ShipmentStatus::AtFacility)
        );
        let error = parse_enum::<QuantityUnit>("BOX").unwrap_err();
        assert!(error.contains("PALLET, CASE, UNIT"), "{error}");
    }

    #[test]
    fn scope_lists_parse_dedupe_and_reject_unknown_names() {
        assert_eq!(
            Scope::parse_list("read, ingest,read"),
            Ok(vec![Scope::Read, Scope::Ingest])
        );
        let error = Scope::parse_list("read,superuser").unwrap_err();
        assert!(
            error.contains("superuser") && error.contains("webhooks"),
            "{error}"
        );
        assert_eq!(Scope::join(Scope::DEFAULT), "ingest,read,write,webhooks");
    }
}

/// How an update treats fields the sender did not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Only the fields present change.
    #[default]
    Patch,
    /// Fields absent from the update are cleared.
    Replace,
}

/// How an order update treats the order's existing items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemsMode {
    /// The sent items replace all existing ones (when items are sent at all).
    #[default]
    Overwrite,
    /// Sent items update the existing item with the same key (identifier, LPN or SKU)
    /// or are added.
    Merge,
    /// Sent items are added after the existing ones.
    Append,
    /// Existing items with the same key as a sent item are removed.
    Delete,
}

/// Whether a pallet was seen going onto or coming off a trailer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PalletDirection {
    #[sea_orm(string_value = "LOADING")]
    Loading,
    #[sea_orm(string_value = "UNLOADING")]
    Unloading,
}

/// The kind of an attached document.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentType {
    #[sea_orm(string_value = "CMR")]
    Cmr,
    #[sea_orm(string_value = "POD")]
    Pod,
    #[sea_orm(string_value = "BOL")]
    Bol,
    #[sea_orm(string_value = "LABEL")]
    Label,
    #[sea_orm(string_value = "CUSTOMS")]
    Customs,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How urgent an exception is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionPriority {
    #[sea_orm(string_value = "LOW")]
    Low,
    #[sea_orm(string_value = "MEDIUM")]
    Medium,
    #[sea_orm(string_value = "HIGH")]
    High,
    #[sea_orm(string_value = "CRITICAL")]
    Critical,
}

/// Where a webhook delivery stands: waiting for its next attempt, delivered, or
/// failed for good (dead-lettered).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl DeliveryState {
    /// The state as stored and answered.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// Whether the request holding an Idempotency-Key is still being written or has its
/// answer stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum KeyState {
    #[sea_orm(string_value = "in_flight")]
    InFlight,
    #[sea_orm(string_value = "complete")]
    Complete,
}

/// What happens at a trip's stop.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StopKind {
    #[sea_orm(string_value = "PICKUP")]
    Pickup,
    #[sea_orm(string_value = "DELIVERY")]
    Delivery,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How a trip's stop went, as the one executing it reports.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StopStatus {
    #[sea_orm(string_value = "PLANNED")]
    Planned,
    #[sea_orm(string_value = "EN_ROUTE")]
    EnRoute,
    #[sea_orm(string_value = "ARRIVED")]
    Arrived,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
}
