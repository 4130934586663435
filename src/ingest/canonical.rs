//! The canonical documents the rules produce, read into typed store inputs. The
//! rules engine has already validated them; what still fails here is reported as a
//! validation error at the document's root.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::{
    DimensionUnit, DocumentType, ExceptionPriority, OrderDirection, PalletDirection, Party,
    Quantity, QuantityUnit, ShipmentDirection, ShipmentStatus, WeightUnit,
};
use crate::store::orders::{ItemFields, OrderFields};
use crate::store::shipments::ShipmentFields;

type Time = Option<DateTime<FixedOffset>>;

fn utc(t: Time) -> Option<DateTime<Utc>> {
    t.map(|t| t.with_timezone(&Utc))
}

/// Reads a canonical document into `T`.
pub fn read<T: DeserializeOwned>(document: &Value) -> Result<T, String> {
    T::deserialize(document)
        .map_err(|e| format!("the mapped document does not fit the canonical model: {e}"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Reference {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Driver {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub license_plate: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

/// A canonical shipment, with the orders it carries.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShipmentDoc {
    pub shipment_number: Option<String>,
    pub facility: Option<String>,
    pub direction: Option<ShipmentDirection>,
    pub status: Option<ShipmentStatus>,
    pub status_occurred_at: Time,
    pub expected_arrival_at: Time,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub trailer_number: Option<String>,
    pub seal_number: Option<String>,
    pub gross_weight: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub volume: Option<f64>,
    pub pallet_count: Option<i32>,
    pub package_count: Option<i32>,
    pub dock: Option<String>,
    pub driver: Option<Driver>,
    pub equipment_type: Option<String>,
    pub purchase_order: Option<String>,
    pub customer_shipment_identifier: Option<String>,
    pub notes: Option<String>,
    pub references: Vec<Reference>,
    pub orders: Vec<Value>,
    pub subcontractor: Option<String>,
    pub stops: Option<Vec<StopDoc>>,
}

/// A canonical stop of a shipment's trip.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StopDoc {
    pub seq: i64,
    pub kind: Option<crate::domain::StopKind>,
    pub location: Option<String>,
    pub address: Option<Value>,
    pub planned_from: Time,
    pub planned_to: Time,
    pub status: Option<crate::domain::StopStatus>,
    pub arrived_at: Time,
    pub departed_at: Time,
    pub note: Option<String>,
}

impl StopDoc {
    fn fields(&self) -> crate::store::trips::StopFields {
        crate::store::trips::StopFields {
            // Out of range is refused by the store, at this stop's path.
            seq: i32::try_from(self.seq).unwrap_or(i32::MAX),
            kind: self.kind,
            location: self.location.clone(),
            address: self.address.clone(),
            planned_from: utc(self.planned_from),
            planned_to: utc(self.planned_to),
            status: self.status,
            arrived_at: utc(self.arrived_at),
            departed_at: utc(self.departed_at),
            note: self.note.clone(),
        }
    }
}

impl ShipmentDoc {
    /// The store fields; the dock slug is checked by the caller.
    pub fn fields(&self, dock: Option<crate::domain::Slug>) -> ShipmentFields {
        let driver = self.driver.as_ref();
        ShipmentFields {
            direction: self.direction,
            status: self.status,
            status_occurred_at: utc(self.status_occurred_at),
            expected_arrival_at: utc(self.expected_arrival_at),
            dock,
            carrier: self.carrier.clone(),
            carrier_service: self.carrier_service.clone(),
            trailer_number: self.trailer_number.clone(),
            seal_number: self.seal_number.clone(),
            gross_weight: self.gross_weight,
            weight_unit: self.weight_unit,
            volume: self.volume,
            pallet_count: self.pallet_count,
            package_count: self.package_count,
            driver_name: driver.and_then(|d| d.name.clone()),
            driver_phone: driver.and_then(|d| d.phone.clone()),
            driver_license_plate: driver.and_then(|d| d.license_plate.clone()),
            equipment_type: self.equipment_type.clone(),
            purchase_order: self.purchase_order.clone(),
            customer_shipment_identifier: self.customer_shipment_identifier.clone(),
            additional_fields: self
                .notes
                .as_ref()
                .map(|n| serde_json::json!({ "notes": n })),
            subcontractor: self.subcontractor.clone(),
            stops: self
                .stops
                .as_ref()
                .map(|stops| stops.iter().map(StopDoc::fields).collect()),
            ..Default::default()
        }
    }
}

/// A canonical order line.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ItemDoc {
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    pub quantity: Option<Quantity>,
    pub quantity_unit: Option<QuantityUnit>,
    pub purchase_order: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub gross_weight: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: Option<bool>,
    pub lot: Option<String>,
    pub expiration_date: Option<NaiveDate>,
    pub manufacturing_date: Option<NaiveDate>,
    pub pallet_type: Option<String>,
}

impl ItemDoc {
    fn into_fields(self) -> ItemFields {
        let mut metadata = serde_json::Map::new();
        if let Some(w) = self.gross_weight {
            metadata.insert("gross_weight".into(), serde_json::json!(w));
        }
        if let Some(t) = self.pallet_type {
            metadata.insert("pallet_type".into(), Value::String(t));
        }
        ItemFields {
            identifier: self.identifier,
            lpn: self.lpn,
            sku: self.sku,
            description: self.description,
            upc: self.upc,
            quantity: self.quantity.unwrap_or_default(),
            quantity_unit: self.quantity_unit.unwrap_or(QuantityUnit::Unit),
            purchase_order: self.purchase_order,
            weight_per_unit: self.weight_per_unit,
            weight_unit: self.weight_unit,
            length: self.length,
            width: self.width,
            height: self.height,
            dimension_unit: self.dimension_unit,
            is_dangerous_good: self.is_dangerous_good.unwrap_or(false),
            lot: self.lot,
            expiration_date: self.expiration_date,
            manufacturing_date: self.manufacturing_date,
            metadata: (!metadata.is_empty()).then_some(Value::Object(metadata)),
        }
    }
}

/// A canonical order.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderDoc {
    pub order_number: Option<String>,
    pub facility: Option<String>,
    pub customer: Option<String>,
    pub direction: Option<OrderDirection>,
    pub order_type: Option<String>,
    pub purchase_order: Option<String>,
    pub requested_ship_date: Time,
    pub requested_delivery_date: Time,
    pub service_level: Option<String>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub bol_number: Option<String>,
    pub seal_number: Option<String>,
    pub shipment_number: Option<String>,
    pub tracking_number: Option<String>,
    pub shipper: Option<Party>,
    pub consignee: Option<Party>,
    pub payer: Option<Party>,
    pub pickup_window: Option<Window>,
    pub delivery_window: Option<Window>,
    pub addons: Option<Vec<String>>,
    pub notes: Option<String>,
    pub references: Vec<Reference>,
    pub items: Option<Vec<ItemDoc>>,
}

impl OrderDoc {
    /// The store fields, and the references to record beside the order
    /// (a tracking number is kept as a `tracking_number` reference).
    pub fn into_fields(self) -> (OrderFields, Vec<Reference>) {
        let mut references = self.references;
        if let Some(tracking) = self.tracking_number {
            references.push(Reference {
                kind: "tracking_number".into(),
                value: tracking,
            });
        }
        let (pickup, delivery) = (
            self.pickup_window.unwrap_or_default(),
            self.delivery_window.unwrap_or_default(),
        );
        let fields = OrderFields {
            customer: self.customer,
            direction: self.direction,
            order_type: self.order_type,
            purchase_order: self.purchase_order,
            requested_ship_date: utc(self.requested_ship_date),
            requested_delivery_date: utc(self.requested_delivery_date),
            service_level: self.service_level,
            carrier: self.carrier,
            carrier_service: self.carrier_service,
            bol_number: self.bol_number,
            seal_number: self.seal_number,
            shipper: self.shipper,
            consignee: self.consignee,
            payer: self.payer,
            pickup_window_start: utc(pickup.start),
            pickup_window_end: utc(pickup.end),
            delivery_window_start: utc(delivery.start),
            delivery_window_end: utc(delivery.end),
            addons: self.addons,
            notes: self.notes,
            items: self
                .items
                .map(|items| items.into_iter().map(ItemDoc::into_fields).collect()),
            ..Default::default()
        };
        (fields, references)
    }
}

/// A canonical pallet event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PalletDoc {
    pub pallet_id: Option<String>,
    pub shipment_number: Option<String>,
    pub facility: Option<String>,
    pub dock: Option<String>,
    pub direction: Option<PalletDirection>,
    pub occurred_at: Time,
    pub labels: BTreeMap<String, Vec<String>>,
    pub orders: Vec<String>,
}

impl PalletDoc {
    pub fn occurred_at_utc(&self) -> Option<DateTime<Utc>> {
        utc(self.occurred_at)
    }
}

/// A canonical document attachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DocumentDoc {
    #[serde(rename = "type")]
    pub kind: Option<DocumentType>,
    pub order_number: Option<String>,
    pub shipment_number: Option<String>,
    pub facility: Option<String>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub content_base64: Option<String>,
    pub external_id: Option<String>,
    pub occurred_at: Time,
    pub signed_by: Option<String>,
    pub notes: Option<String>,
}

impl DocumentDoc {
    pub fn occurred_at_utc(&self) -> Option<DateTime<Utc>> {
        utc(self.occurred_at)
    }
}

/// A canonical reference attachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReferenceDoc {
    pub kind: String,
    pub value: String,
    pub order_number: Option<String>,
    pub shipment_number: Option<String>,
    pub facility: Option<String>,
}

/// A canonical exception.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExceptionDoc {
    pub shipment_number: Option<String>,
    pub facility: Option<String>,
    pub pallet_id: Option<String>,
    pub priority: Option<ExceptionPriority>,
    pub description: String,
    pub occurred_at: Time,
}
