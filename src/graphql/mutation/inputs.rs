//! Mutation inputs and their translation into store fields. Names follow the
//! legacy API.

use async_graphql::{InputObject, Json};

use crate::domain::PublicId;
use crate::domain::{OrderNumber, Party, Quantity, ShipmentNumber};
use crate::error::Error;
use crate::graphql::context::slug;
use crate::graphql::types::enums::{
    DimensionUnit, OrderDirection, OrderStatus, QuantityUnit, ShippingDirection,
    UpdateShipmentStatus, WeightUnit,
};
use crate::graphql::types::{parse_date_opt, parse_time_opt};
use crate::store::orders::{ItemFields, OrderFields};
use crate::store::shipments::ShipmentFields;

/// Creates or updates the shipment `shipmentNumber` of a facility.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateShipmentInput {
    pub business_slug: String,
    pub facility_slug: String,
    pub shipment_number: String,
    pub expected_arrival_at: Option<String>,
    pub direction: Option<ShippingDirection>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub trailer_number: Option<String>,
    pub status: Option<UpdateShipmentStatus>,
    /// When the status change happened (ISO 8601); defaults to now.
    pub status_occurred_at: Option<String>,
    pub dock_slug: Option<String>,
    pub driver_name: Option<String>,
    pub driver_phone: Option<String>,
    pub driver_license_plate: Option<String>,
    pub equipment_type: Option<String>,
    pub service_type: Option<String>,
    pub shipment_type: Option<String>,
    pub seal_number: Option<String>,
    pub purchase_order: Option<String>,
    pub customer_shipment_identifier: Option<String>,
    pub additional_fields: Option<Json<serde_json::Value>>,
}

impl UpdateShipmentInput {
    /// The shipment number and the fields to set.
    pub fn into_fields(self) -> Result<(ShipmentNumber, ShipmentFields), Error> {
        let number = ShipmentNumber::parse(&self.shipment_number)
            .map_err(|e| e.at("input.shipmentNumber"))?;
        let dock = self
            .dock_slug
            .map(|s| slug("input.dockSlug", &s))
            .transpose()?;
        let fields = ShipmentFields {
            direction: self.direction.map(Into::into),
            status: self.status.map(Into::into),
            status_occurred_at: parse_time_opt(
                "input.statusOccurredAt",
                self.status_occurred_at.as_deref(),
            )?,
            expected_arrival_at: parse_time_opt(
                "input.expectedArrivalAt",
                self.expected_arrival_at.as_deref(),
            )?,
            dock,
            carrier: self.carrier,
            carrier_service: self.carrier_service,
            trailer_number: self.trailer_number,
            seal_number: self.seal_number,
            driver_name: self.driver_name,
            driver_phone: self.driver_phone,
            driver_license_plate: self.driver_license_plate,
            equipment_type: self.equipment_type,
            service_type: self.service_type,
            shipment_type: self.shipment_type,
            purchase_order: self.purchase_order,
            customer_shipment_identifier: self.customer_shipment_identifier,
            additional_fields: self.additional_fields.map(|j| j.0),
            // The legacy input has no measures: a legacy update leaves them as they are.
            ..ShipmentFields::default()
        };
        Ok((number, fields))
    }
}

/// An order as legacy integrations send it.
#[derive(Debug, Clone, InputObject)]
pub struct OrderInput {
    pub business_slug: String,
    pub facility_slug: String,
    pub order_number: String,
    pub direction: Option<OrderDirection>,
    pub status: Option<OrderStatus>,
    pub external_id: Option<String>,
    pub order_type: Option<String>,
    pub purchase_order: Option<String>,
    pub requested_ship_date: Option<String>,
    pub requested_delivery_date: Option<String>,
    pub shipper_name: Option<String>,
    /// The shipper's street address.
    pub shipper_address: Option<String>,
    pub shipper_email: Option<String>,
    pub consignee_name: Option<String>,
    pub consignee_phone_number: Option<String>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub bol_number: Option<String>,
    pub seal_number: Option<String>,
    pub items: Option<Vec<OrderItemInput>>,
    /// Assigns the order to this shipment (of the same business).
    pub shipment_id: Option<PublicId>,
    pub expected_quantity: Option<f64>,
    /// The customer the order is for.
    pub client_name: Option<String>,
    /// On update: add `items` to the order's lines instead of replacing them.
    pub append_items: Option<bool>,
}

fn party(
    name: Option<String>,
    address: Option<String>,
    email: Option<String>,
    phone: Option<String>,
) -> Option<Party> {
    if name.is_none() && address.is_none() && email.is_none() && phone.is_none() {
        return None;
    }
    Some(Party {
        name,
        address_one: address,
        email,
        phone,
        ..Party::default()
    })
}

impl OrderInput {
    /// The order number and the fields to set.
    pub fn into_fields(self) -> Result<(OrderNumber, OrderFields), Error> {
        let number =
            OrderNumber::parse(&self.order_number).map_err(|e| e.at("input.orderNumber"))?;
        let items = self
            .items
            .map(|items| items_fields("input.items", items))
            .transpose()?;
        let fields = OrderFields {
            external_id: self.external_id,
            customer: self.client_name,
            direction: self.direction.map(Into::into),
            status: self.status.map(Into::into),
            order_type: self.order_type,
            purchase_order: self.purchase_order,
            requested_ship_date: parse_time_opt(
                "input.requestedShipDate",
                self.requested_ship_date.as_deref(),
            )?,
            requested_delivery_date: parse_time_opt(
                "input.requestedDeliveryDate",
                self.requested_delivery_date.as_deref(),
            )?,
            carrier: self.carrier,
            carrier_service: self.carrier_service,
            bol_number: self.bol_number,
            seal_number: self.seal_number,
            shipper: party(
                self.shipper_name,
                self.shipper_address,
                self.shipper_email,
                None,
            ),
            consignee: party(self.consignee_name, None, None, self.consignee_phone_number),
            shipment_id: self.shipment_id.map(PublicId::internal),
            expected_quantity: self.expected_quantity,
            items,
            ..OrderFields::default()
        };
        Ok((number, fields))
    }
}

/// An order line.
#[derive(Debug, Clone, InputObject)]
pub struct OrderItemInput {
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub quantity: f64,
    /// Defaults to UNIT.
    pub quantity_unit: Option<QuantityUnit>,
    pub purchase_order: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub height: Option<f64>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: Option<bool>,
    pub lot: Option<String>,
    /// A date like 2026-11-22.
    pub expiration_date: Option<String>,
    /// A date like 2026-11-22.
    pub manufacturing_date: Option<String>,
}

/// Translates item inputs, naming the offending line on error.
pub fn items_fields(path: &str, items: Vec<OrderItemInput>) -> Result<Vec<ItemFields>, Error> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| item.into_fields(&format!("{path}[{i}]")))
        .collect()
}

impl OrderItemInput {
    fn into_fields(self, path: &str) -> Result<ItemFields, Error> {
        let quantity = Quantity::new(self.quantity)
            .map_err(|e| Error::invalid_field(format!("{path}.quantity"), e))?;
        let unit = self.quantity_unit.unwrap_or(QuantityUnit::Unit);
        let mut fields = ItemFields::new(quantity, unit.into());
        fields.identifier = self.identifier;
        fields.lpn = self.lpn;
        fields.sku = self.sku;
        fields.purchase_order = self.purchase_order;
        fields.description = self.description;
        fields.upc = self.upc;
        fields.weight_per_unit = self.weight_per_unit;
        fields.weight_unit = self.weight_unit.map(Into::into);
        fields.height = self.height;
        fields.length = self.length;
        fields.width = self.width;
        fields.dimension_unit = self.dimension_unit.map(Into::into);
        fields.is_dangerous_good = self.is_dangerous_good.unwrap_or(false);
        fields.lot = self.lot;
        fields.expiration_date = parse_date_opt(
            &format!("{path}.expirationDate"),
            self.expiration_date.as_deref(),
        )?;
        fields.manufacturing_date = parse_date_opt(
            &format!("{path}.manufacturingDate"),
            self.manufacturing_date.as_deref(),
        )?;
        Ok(fields)
    }
}
