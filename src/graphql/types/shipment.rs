//! A shipment and what hangs off it: status milestones, documents, pallets,
//! references and exceptions.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::enums::{
    DocumentType, ExceptionPriority, PalletDirection, ShipmentStatus, ShippingDirection,
};
use super::facility::{Dock, Facility};
use super::order::Order;
use super::{iso, iso_opt};
use crate::domain::{self, ShipmentDirection};
use crate::domain::{PublicId, public_id};
use crate::graphql::context::loader;
use crate::graphql::loaders::{
    DockId, DocumentsOf, ExceptionsOf, FacilityId, HistoryOf, OrdersOf, PalletsOf, ReferencesOf,
};
use crate::store::batch::{DocumentMeta, PalletWithOrders};
use crate::store::entities::{exception, reference, shipment, shipment_status_event};

/// A trailer visit at a facility.
pub struct Shipment(pub shipment::Model);

#[Object]
impl Shipment {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    async fn shipment_number(&self) -> &str {
        &self.0.shipment_number
    }
    async fn status(&self) -> ShipmentStatus {
        self.0.status.into()
    }
    /// The visit's milestones, each with whether and when it was reached.
    async fn status_events(&self, ctx: &Context<'_>) -> Result<Vec<StatusEvent>> {
        let history = loader(ctx)?.load_one(HistoryOf(self.0.id)).await?;
        Ok(milestones(&self.0, &history.unwrap_or_default()))
    }
    async fn shipping_direction(&self) -> ShippingDirection {
        self.0.direction.into()
    }
    async fn purchase_order(&self) -> Option<&str> {
        self.0.purchase_order.as_deref()
    }
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }
    async fn carrier_service(&self) -> Option<&str> {
        self.0.carrier_service.as_deref()
    }
    async fn customer_shipment_identifier(&self) -> Option<&str> {
        self.0.customer_shipment_identifier.as_deref()
    }
    async fn trailer_number(&self) -> Option<&str> {
        self.0.trailer_number.as_deref()
    }
    async fn seal_number(&self) -> Option<&str> {
        self.0.seal_number.as_deref()
    }
    /// Gross weight of the whole shipment, in `weightUnit` (`KILOGRAM` or `POUND`).
    async fn gross_weight(&self) -> Option<f64> {
        self.0.gross_weight
    }
    async fn weight_unit(&self) -> Option<&'static str> {
        self.0.weight_unit.map(|u| match u {
            crate::domain::WeightUnit::Kilogram => "KILOGRAM",
            crate::domain::WeightUnit::Pound => "POUND",
        })
    }
    /// Volume in cubic metres.
    async fn volume(&self) -> Option<f64> {
        self.0.volume
    }
    async fn pallet_count(&self) -> Option<i32> {
        self.0.pallet_count
    }
    async fn package_count(&self) -> Option<i32> {
        self.0.package_count
    }
    async fn arrived_at(&self) -> Option<String> {
        iso_opt(self.0.arrived_at)
    }
    async fn loading_start_at(&self) -> Option<String> {
        iso_opt(self.0.loading_start_at)
    }
    async fn loading_end_at(&self) -> Option<String> {
        iso_opt(self.0.loading_end_at)
    }
    async fn departed_at(&self) -> Option<String> {
        iso_opt(self.0.departed_at)
    }
    async fn expected_arrival_at(&self) -> Option<String> {
        iso_opt(self.0.expected_arrival_at)
    }
    async fn updated_at(&self) -> String {
        iso(self.0.updated_at)
    }
    async fn facility(&self, ctx: &Context<'_>) -> Result<Option<Facility>> {
        let found = loader(ctx)?
            .load_one(FacilityId(self.0.facility_id))
            .await?;
        Ok(found.map(Facility))
    }
    async fn dock_id(&self) -> Option<i64> {
        self.0.dock_id.map(public_id::public)
    }
    async fn dock(&self, ctx: &Context<'_>) -> Result<Option<Dock>> {
        let Some(id) = self.0.dock_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?.load_one(DockId(id)).await?.map(Dock))
    }
    /// The orders assigned to this shipment, oldest first.
    async fn orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        let found = loader(ctx)?.load_one(OrdersOf(self.0.id)).await?;
        Ok(found.unwrap_or_default().into_iter().map(Order).collect())
    }
    async fn documents(&self, ctx: &Context<'_>) -> Result<Vec<Document>> {
        let found = loader(ctx)?.load_one(DocumentsOf(self.0.id)).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(Document)
            .collect())
    }
    /// Pallets loaded onto or unloaded from this shipment, in the order seen.
    async fn pallets(&self, ctx: &Context<'_>) -> Result<Vec<Pallet>> {
        let found = loader(ctx)?.load_one(PalletsOf(self.0.id)).await?;
        Ok(found.unwrap_or_default().into_iter().map(Pallet).collect())
    }
    /// The shipment's references (booking, collection, customs numbers …), oldest first.
    async fn references(&self, ctx: &Context<'_>) -> Result<Vec<Reference>> {
        let found = loader(ctx)?.load_one(ReferencesOf(self.0.id)).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(Reference)
            .collect())
    }
    /// Exceptions raised on the shipment or its pallets, oldest first.
    async fn exceptions(&self, ctx: &Context<'_>) -> Result<Vec<ShipmentException>> {
        let found = loader(ctx)?.load_one(ExceptionsOf(self.0.id)).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(ShipmentException)
            .collect())
    }
}

/// A reference number of a shipment.
pub struct Reference(pub reference::Model);

#[Object]
impl Reference {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    /// What the number is (`booking`, `collection_reference`, …), as the rule maps it.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn value(&self) -> &str {
        &self.0.value
    }
    async fn created_at(&self) -> String {
        iso(self.0.created_at)
    }
}

/// An exception raised on a shipment or one of its pallets.
pub struct ShipmentException(pub exception::Model);

#[Object(name = "ShipmentException")]
impl ShipmentException {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    /// The pallet event it is about, when it is about one pallet.
    async fn pallet_event_id(&self) -> Option<i64> {
        self.0.pallet_id.map(public_id::public)
    }
    async fn priority(&self) -> ExceptionPriority {
        self.0.priority.into()
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// When it happened, as the sender said.
    async fn occurred_at(&self) -> Option<String> {
        iso_opt(self.0.occurred_at)
    }
    /// When freightgate recorded it.
    async fn created_at(&self) -> String {
        iso(self.0.created_at)
    }
}

/// A milestone of a shipment's visit.
#[derive(SimpleObject)]
pub struct StatusEvent {
    pub status: ShipmentStatus,
    pub display_name: String,
    pub completed: bool,
    pub completed_at: Option<String>,
}

/// The milestones for the shipment's direction, plus any other status it has been in.
fn milestones(
    shipment: &shipment::Model,
    history: &[shipment_status_event::Model],
) -> Vec<StatusEvent> {
    use domain::ShipmentStatus::*;
    let (work, done) = match shipment.direction {
        ShipmentDirection::Inbound => (Unloading, Unloaded),
        _ => (Loading, Loaded),
    };
    let mut statuses = vec![Scheduled, AtFacility, DoorAssigned, work, done, CheckedOut];
    for event in history {
        if event.status != New && !statuses.contains(&event.status) {
            statuses.push(event.status);
        }
    }
    statuses
        .into_iter()
        .map(|status| {
            let first = history.iter().find(|e| e.status == status);
            StatusEvent {
                status: status.into(),
                display_name: display_name(status),
                completed: first.is_some(),
                completed_at: first.map(|e| iso(e.occurred_at)),
            }
        })
        .collect()
}

fn display_name(status: domain::ShipmentStatus) -> String {
    let raw = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut words = raw.split('_').map(|w| w.to_lowercase());
    let mut name = String::new();
    if let Some(first) = words.next() {
        let mut chars = first.chars();
        if let Some(c) = chars.next() {
            name.extend(c.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    for word in words {
        name.push(' ');
        name.push_str(&word);
    }
    name
}

/// A file attached to a shipment; its bytes are at `fileUrl`.
pub struct Document(pub DocumentMeta);

#[Object]
impl Document {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    #[graphql(name = "type")]
    async fn document_type(&self) -> DocumentType {
        self.0.document_type.into()
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn shipment_id(&self) -> Option<i64> {
        self.0.shipment_id.map(public_id::public)
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn mime_type(&self) -> &str {
        &self.0.mime_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Where to GET the bytes (same API key, scope `read`), relative to this server.
    async fn file_url(&self) -> String {
        format!("/v1/documents/{}/content", PublicId::from(self.0.id))
    }
    async fn uploaded_at(&self) -> String {
        iso(self.0.uploaded_at)
    }
}

/// A pallet event on a shipment.
pub struct Pallet(pub PalletWithOrders);

/// One label field of a pallet and its values.
#[derive(SimpleObject)]
pub struct PalletLabel {
    pub name: String,
    pub values: Vec<String>,
}

#[Object]
impl Pallet {
    async fn id(&self) -> i64 {
        public_id::public(self.0.pallet.id)
    }
    /// The pallet's own code (SSCC, LPN, …).
    async fn pallet_id(&self) -> &str {
        &self.0.pallet.pallet_code
    }
    async fn direction(&self) -> PalletDirection {
        self.0.pallet.direction.into()
    }
    async fn occurred_at(&self) -> String {
        iso(self.0.pallet.occurred_at)
    }
    async fn dock_id(&self) -> Option<i64> {
        self.0.pallet.dock_id.map(public_id::public)
    }
    async fn labels(&self) -> Vec<PalletLabel> {
        let Some(map) = self.0.pallet.labels.as_object() else {
            return Vec::new();
        };
        map.iter()
            .map(|(name, values)| PalletLabel {
                name: name.clone(),
                values: values
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }
    async fn order_ids(&self) -> Vec<PublicId> {
        self.0
            .order_ids
            .iter()
            .copied()
            .map(PublicId::from)
            .collect()
    }
}
