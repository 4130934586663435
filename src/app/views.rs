//! What the resource use cases answer: the JSON shapes of `/v1/shipments…` and
//! `/v1/orders…`, a stable public contract kept apart from the storage rows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::Version;
use crate::domain::{
    DimensionUnit, DocumentType, ExceptionPriority, OrderDirection, OrderStatus, PalletDirection,
    PublicId, QuantityUnit, ShipmentDirection, ShipmentStatus, StopKind, StopStatus, WeightUnit,
};
use crate::store::attach::DocumentMeta;
use crate::store::entities::{
    exception, order, order_item, pallet, reference, shipment, shipment_status_event, shipment_stop,
};
use crate::store::orders::OrderWithItems;

/// A shipment as listed: its own fields, without history and orders.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShipmentSummary {
    pub id: PublicId,
    pub shipment_number: String,
    /// The facility's slug.
    pub facility: String,
    pub direction: ShipmentDirection,
    pub status: ShipmentStatus,
    /// The dock's slug.
    pub dock: Option<String>,
    pub expected_arrival_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub loading_start_at: Option<DateTime<Utc>>,
    pub loading_end_at: Option<DateTime<Utc>>,
    pub departed_at: Option<DateTime<Utc>>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub trailer_number: Option<String>,
    pub seal_number: Option<String>,
    /// Gross weight, in `weight_unit`.
    pub gross_weight: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    /// Cubic metres.
    pub volume: Option<f64>,
    pub pallet_count: Option<i32>,
    pub package_count: Option<i32>,
    pub driver: DriverView,
    pub equipment_type: Option<String>,
    pub service_type: Option<String>,
    pub shipment_type: Option<String>,
    pub purchase_order: Option<String>,
    pub customer_shipment_identifier: Option<String>,
    /// Free fields as the sender gave them (any JSON value).
    #[schema(value_type = Option<Value>)]
    pub additional_fields: Option<serde_json::Value>,
    /// The subcontractor party the trip is assigned to.
    pub subcontractor: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The shipment's version, as its `ETag` carries it.
    pub version: String,
}

/// A shipment with its status history, orders, and what was attached to it. Its
/// `version` (the `ETag`) is the version of the shipment's own fields: attaching a
/// pallet, document, reference or exception does not change it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShipmentView {
    #[serde(flatten)]
    pub shipment: ShipmentSummary,
    pub status_history: Vec<StatusEventView>,
    /// The trip's stops, by `seq`.
    pub stops: Vec<StopView>,
    pub orders: Vec<OrderView>,
    /// Pallet events at its docks, oldest first.
    pub pallets: Vec<PalletView>,
    /// Documents attached to it or to one of its orders, without their bytes.
    pub documents: Vec<DocumentView>,
    /// References on it (not on one of its orders).
    pub references: Vec<ReferenceView>,
    /// Exceptions on it and its pallets.
    pub exceptions: Vec<ExceptionView>,
}

/// One stop of a shipment's trip: where, the planned window, and how it went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StopView {
    pub seq: i32,
    pub kind: StopKind,
    pub location: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<serde_json::Value>,
    pub planned_from: Option<DateTime<Utc>>,
    pub planned_to: Option<DateTime<Utc>>,
    pub status: StopStatus,
    pub arrived_at: Option<DateTime<Utc>>,
    pub departed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<shipment_stop::Model> for StopView {
    fn from(s: shipment_stop::Model) -> Self {
        Self {
            seq: s.seq,
            kind: s.kind,
            location: s.location,
            address: s.address,
            planned_from: s.planned_from,
            planned_to: s.planned_to,
            status: s.status,
            arrived_at: s.arrived_at,
            departed_at: s.departed_at,
            note: s.note,
            updated_at: s.updated_at,
        }
    }
}

/// What is attached to a shipment, for its view (and its trip's stops).
#[derive(Debug, Default)]
pub struct Attached {
    pub stops: Vec<StopView>,
    pub pallets: Vec<PalletView>,
    pub documents: Vec<DocumentView>,
    pub references: Vec<ReferenceView>,
    pub exceptions: Vec<ExceptionView>,
}

/// The driver of a shipment's vehicle.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriverView {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub license_plate: Option<String>,
}

/// One status change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusEventView {
    pub status: ShipmentStatus,
    pub occurred_at: DateTime<Utc>,
    /// Why, when the sender said (a cancel's reason).
    pub note: Option<String>,
}

impl ShipmentSummary {
    /// The summary of a shipment row with its facility's and dock's slugs.
    pub fn new(s: shipment::Model, facility: String, dock: Option<String>) -> Self {
        let version = Version::of_shipment(&s).to_string();
        Self {
            id: s.id.into(),
            shipment_number: s.shipment_number,
            facility,
            direction: s.direction,
            status: s.status,
            dock,
            expected_arrival_at: s.expected_arrival_at,
            arrived_at: s.arrived_at,
            loading_start_at: s.loading_start_at,
            loading_end_at: s.loading_end_at,
            departed_at: s.departed_at,
            carrier: s.carrier,
            carrier_service: s.carrier_service,
            trailer_number: s.trailer_number,
            seal_number: s.seal_number,
            gross_weight: s.gross_weight,
            weight_unit: s.weight_unit,
            volume: s.volume,
            pallet_count: s.pallet_count,
            package_count: s.package_count,
            driver: DriverView {
                name: s.driver_name,
                phone: s.driver_phone,
                license_plate: s.driver_license_plate,
            },
            equipment_type: s.equipment_type,
            service_type: s.service_type,
            shipment_type: s.shipment_type,
            purchase_order: s.purchase_order,
            customer_shipment_identifier: s.customer_shipment_identifier,
            additional_fields: s.additional_fields,
            subcontractor: s.subcontractor,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version,
        }
    }
}

impl ShipmentView {
    /// Assembles the view from the summary, the history, the orders and what is
    /// attached.
    pub fn new(
        shipment: ShipmentSummary,
        history: Vec<shipment_status_event::Model>,
        orders: Vec<OrderView>,
        attached: Attached,
    ) -> Self {
        Self {
            shipment,
            status_history: history
                .into_iter()
                .map(|e| StatusEventView {
                    status: e.status,
                    occurred_at: e.occurred_at,
                    note: e.note,
                })
                .collect(),
            stops: attached.stops,
            orders,
            pallets: attached.pallets,
            documents: attached.documents,
            references: attached.references,
            exceptions: attached.exceptions,
        }
    }
}

/// A time window with optional ends.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WindowView {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// An order as listed: its own fields, without its items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub id: PublicId,
    pub order_number: String,
    /// The facility's slug.
    pub facility: String,
    pub external_id: Option<String>,
    pub customer: Option<String>,
    pub direction: OrderDirection,
    pub status: OrderStatus,
    pub order_type: Option<String>,
    pub purchase_order: Option<String>,
    pub requested_ship_date: Option<DateTime<Utc>>,
    pub requested_delivery_date: Option<DateTime<Utc>>,
    pub service_level: Option<String>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub bol_number: Option<String>,
    pub seal_number: Option<String>,
    #[schema(value_type = Option<crate::domain::Party>)]
    pub shipper: Option<serde_json::Value>,
    #[schema(value_type = Option<crate::domain::Party>)]
    pub consignee: Option<serde_json::Value>,
    #[schema(value_type = Option<crate::domain::Party>)]
    pub payer: Option<serde_json::Value>,
    pub pickup_window: WindowView,
    pub delivery_window: WindowView,
    #[schema(value_type = Vec<String>)]
    pub addons: serde_json::Value,
    pub notes: Option<String>,
    pub shipment_id: Option<PublicId>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled, when the canceller said.
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The order's version, as its `ETag` carries it.
    pub version: String,
}

/// An order with its items and references.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: OrderSummary,
    pub items: Vec<ItemView>,
    /// The order's references, oldest first; a tracking number is one of kind
    /// `tracking_number`.
    pub references: Vec<ReferenceView>,
}

impl OrderSummary {
    /// The summary of an order row with its facility's slug.
    pub fn new(o: order::Model, facility: String) -> Self {
        let version = Version::of_order(&o).to_string();
        Self {
            id: o.id.into(),
            order_number: o.order_number,
            facility,
            external_id: o.external_id,
            customer: o.customer,
            direction: o.direction,
            status: o.status,
            order_type: o.order_type,
            purchase_order: o.purchase_order,
            requested_ship_date: o.requested_ship_date,
            requested_delivery_date: o.requested_delivery_date,
            service_level: o.service_level,
            carrier: o.carrier,
            carrier_service: o.carrier_service,
            bol_number: o.bol_number,
            seal_number: o.seal_number,
            shipper: o.shipper,
            consignee: o.consignee,
            payer: o.payer,
            pickup_window: WindowView {
                start: o.pickup_window_start,
                end: o.pickup_window_end,
            },
            delivery_window: WindowView {
                start: o.delivery_window_start,
                end: o.delivery_window_end,
            },
            addons: o.addons,
            notes: o.notes,
            shipment_id: o.shipment_id.map(Into::into),
            cancelled_at: o.cancelled_at,
            cancel_reason: o.cancel_reason,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version,
        }
    }
}

impl OrderView {
    /// Assembles the view from an order, its items and its facility's slug.
    pub fn new(
        OrderWithItems { order, items }: OrderWithItems,
        facility: String,
        references: Vec<reference::Model>,
    ) -> Self {
        Self {
            order: OrderSummary::new(order, facility),
            items: items.into_iter().map(ItemView::from).collect(),
            references: references.into_iter().map(ReferenceView::from).collect(),
        }
    }
}

/// One order line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: PublicId,
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    pub quantity: f64,
    pub quantity_unit: QuantityUnit,
    pub purchase_order: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: bool,
    pub lot: Option<String>,
    pub expiration_date: Option<NaiveDate>,
    pub manufacturing_date: Option<NaiveDate>,
    /// Free fields as the sender gave them (any JSON value).
    #[schema(value_type = Option<Value>)]
    pub metadata: Option<serde_json::Value>,
}

impl From<order_item::Model> for ItemView {
    fn from(i: order_item::Model) -> Self {
        Self {
            id: i.id.into(),
            identifier: i.identifier,
            lpn: i.lpn,
            sku: i.sku,
            description: i.description,
            upc: i.upc,
            quantity: i.quantity,
            quantity_unit: i.quantity_unit,
            purchase_order: i.purchase_order,
            weight_per_unit: i.weight_per_unit,
            weight_unit: i.weight_unit,
            length: i.length,
            width: i.width,
            height: i.height,
            dimension_unit: i.dimension_unit,
            is_dangerous_good: i.is_dangerous_good,
            lot: i.lot,
            expiration_date: i.expiration_date,
            manufacturing_date: i.manufacturing_date,
            metadata: i.metadata,
        }
    }
}

/// A pallet seen at a dock of the shipment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PalletView {
    pub id: PublicId,
    /// The sender's pallet id (SSCC, LPN, …).
    pub pallet_id: String,
    pub direction: PalletDirection,
    pub occurred_at: DateTime<Utc>,
    /// The dock's slug.
    pub dock: Option<String>,
    /// Label fields: name to list of values.
    #[schema(value_type = Value)]
    pub labels: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl PalletView {
    /// The view of a pallet event with its dock's slug.
    pub fn new(p: pallet::Model, dock: Option<String>) -> Self {
        Self {
            id: p.id.into(),
            pallet_id: p.pallet_code,
            direction: p.direction,
            occurred_at: p.occurred_at,
            dock,
            labels: p.labels,
            created_at: p.created_at,
        }
    }
}

/// A stored document, without its bytes (`GET /v1/documents/{id}/content` has them).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: PublicId,
    pub shipment_id: Option<PublicId>,
    pub order_id: Option<PublicId>,
    pub document_type: DocumentType,
    pub external_id: Option<String>,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub notes: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

impl From<DocumentMeta> for DocumentView {
    fn from(d: DocumentMeta) -> Self {
        Self {
            id: d.id.into(),
            shipment_id: d.shipment_id.map(Into::into),
            order_id: d.order_id.map(Into::into),
            document_type: d.document_type,
            external_id: d.external_id,
            file_name: d.file_name,
            mime_type: d.mime_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            notes: d.notes,
            uploaded_at: d.uploaded_at,
        }
    }
}

/// A reference (kind and value) on a shipment or order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferenceView {
    pub id: PublicId,
    pub shipment_id: Option<PublicId>,
    pub order_id: Option<PublicId>,
    pub kind: String,
    pub value: String,
    pub created_at: DateTime<Utc>,
}

impl From<reference::Model> for ReferenceView {
    fn from(r: reference::Model) -> Self {
        Self {
            id: r.id.into(),
            shipment_id: r.shipment_id.map(Into::into),
            order_id: r.order_id.map(Into::into),
            kind: r.kind,
            value: r.value,
            created_at: r.created_at,
        }
    }
}

/// An exception raised on a shipment or one of its pallets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExceptionView {
    pub id: PublicId,
    pub shipment_id: PublicId,
    /// The pallet event it is about, when it is about one pallet.
    pub pallet_event_id: Option<PublicId>,
    pub priority: ExceptionPriority,
    pub description: String,
    /// When it happened, as the sender said.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When freightgate recorded it.
    pub created_at: DateTime<Utc>,
}

impl From<exception::Model> for ExceptionView {
    fn from(e: exception::Model) -> Self {
        Self {
            id: e.id.into(),
            shipment_id: e.shipment_id.into(),
            pallet_event_id: e.pallet_id.map(Into::into),
            priority: e.priority,
            description: e.description,
            occurred_at: e.occurred_at,
            created_at: e.created_at,
        }
    }
}
