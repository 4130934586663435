//! An order and its items.

use async_graphql::{Context, Object, Result};

use super::enums::{DimensionUnit, OrderDirection, OrderStatus, QuantityUnit, WeightUnit};
use super::shipment::Reference;
use super::{iso, iso_opt};
use crate::domain::Party;
use crate::domain::public_id;
use crate::graphql::context::loader;
use crate::graphql::loaders::{ItemsOf, ReferencesOfOrder};
use crate::store::entities::{order, order_item};

/// A customer order, optionally assigned to a shipment.
pub struct Order(pub order::Model);

fn party(value: &Option<serde_json::Value>) -> Party {
    value
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// A party's address on one line: street, postal code and city, country.
fn one_line(party: &Party) -> Option<String> {
    let locality = [party.postal_code.as_deref(), party.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<&str> = [
        party.address_one.as_deref(),
        party.address_two.as_deref(),
        Some(locality.as_str()),
        party.state.as_deref(),
        party.country.as_ref().map(|c| c.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.trim().is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[Object]
impl Order {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn facility_id(&self) -> i64 {
        public_id::public(self.0.facility_id)
    }
    async fn order_number(&self) -> &str {
        &self.0.order_number
    }
    async fn direction(&self) -> OrderDirection {
        self.0.direction.into()
    }
    async fn order_type(&self) -> Option<&str> {
        self.0.order_type.as_deref()
    }
    async fn purchase_order(&self) -> Option<&str> {
        self.0.purchase_order.as_deref()
    }
    async fn requested_ship_date(&self) -> Option<String> {
        iso_opt(self.0.requested_ship_date)
    }
    async fn requested_delivery_date(&self) -> Option<String> {
        iso_opt(self.0.requested_delivery_date)
    }
    async fn shipper_name(&self) -> Option<String> {
        party(&self.0.shipper).name
    }
    async fn shipper_address(&self) -> Option<String> {
        one_line(&party(&self.0.shipper))
    }
    async fn shipper_email(&self) -> Option<String> {
        party(&self.0.shipper).email
    }
    async fn consignee_name(&self) -> Option<String> {
        party(&self.0.consignee).name
    }
    async fn consignee_phone_number(&self) -> Option<String> {
        party(&self.0.consignee).phone
    }
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }
    async fn carrier_service(&self) -> Option<&str> {
        self.0.carrier_service.as_deref()
    }
    async fn bol_number(&self) -> Option<&str> {
        self.0.bol_number.as_deref()
    }
    async fn seal_number(&self) -> Option<&str> {
        self.0.seal_number.as_deref()
    }
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>> {
        let found = loader(ctx)?.load_one(ItemsOf(self.0.id)).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(OrderItem)
            .collect())
    }
    /// The order's references (a tracking number among them, of kind
    /// `tracking_number`), oldest first.
    async fn references(&self, ctx: &Context<'_>) -> Result<Vec<Reference>> {
        let found = loader(ctx)?.load_one(ReferencesOfOrder(self.0.id)).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(Reference)
            .collect())
    }
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    async fn shipment_id(&self) -> Option<i64> {
        self.0.shipment_id.map(public_id::public)
    }
    async fn expected_quantity(&self) -> Option<f64> {
        self.0.expected_quantity
    }
    /// The customer the order is for.
    async fn client_name(&self) -> Option<&str> {
        self.0.customer.as_deref()
    }
    async fn updated_at(&self) -> String {
        iso(self.0.updated_at)
    }
}

/// A line of an order.
pub struct OrderItem(pub order_item::Model);

#[Object]
impl OrderItem {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    async fn identifier(&self) -> Option<&str> {
        self.0.identifier.as_deref()
    }
    async fn lpn(&self) -> Option<&str> {
        self.0.lpn.as_deref()
    }
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    async fn quantity(&self) -> f64 {
        self.0.quantity
    }
    async fn quantity_unit(&self) -> QuantityUnit {
        self.0.quantity_unit.into()
    }
    async fn purchase_order(&self) -> Option<&str> {
        self.0.purchase_order.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn upc(&self) -> Option<&str> {
        self.0.upc.as_deref()
    }
    async fn weight_per_unit(&self) -> Option<f64> {
        self.0.weight_per_unit
    }
    async fn weight_unit(&self) -> Option<WeightUnit> {
        self.0.weight_unit.map(Into::into)
    }
    async fn height(&self) -> Option<f64> {
        self.0.height
    }
    async fn length(&self) -> Option<f64> {
        self.0.length
    }
    async fn width(&self) -> Option<f64> {
        self.0.width
    }
    async fn dimension_unit(&self) -> Option<DimensionUnit> {
        self.0.dimension_unit.map(Into::into)
    }
    async fn is_dangerous_good(&self) -> bool {
        self.0.is_dangerous_good
    }
    async fn lot(&self) -> Option<&str> {
        self.0.lot.as_deref()
    }
    async fn expiration_date(&self) -> Option<String> {
        self.0.expiration_date.map(|d| d.to_string())
    }
    async fn manufacturing_date(&self) -> Option<String> {
        self.0.manufacturing_date.map(|d| d.to_string())
    }
}
