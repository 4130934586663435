//! A trailer visit: inbound or outbound, with its status.
use sea_orm::entity::prelude::*;

use crate::domain::{ShipmentDirection, ShipmentStatus, WeightUnit};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub facility_id: i64,
    pub shipment_number: String,
    pub direction: ShipmentDirection,
    pub status: ShipmentStatus,
    pub dock_id: Option<i64>,
    pub expected_arrival_at: Option<DateTimeUtc>,
    pub arrived_at: Option<DateTimeUtc>,
    pub loading_start_at: Option<DateTimeUtc>,
    pub loading_end_at: Option<DateTimeUtc>,
    pub departed_at: Option<DateTimeUtc>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub trailer_number: Option<String>,
    pub seal_number: Option<String>,
    pub gross_weight: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    /// Cubic metres.
    pub volume: Option<f64>,
    pub pallet_count: Option<i32>,
    pub package_count: Option<i32>,
    pub driver_name: Option<String>,
    pub driver_phone: Option<String>,
    pub driver_license_plate: Option<String>,
    pub equipment_type: Option<String>,
    pub service_type: Option<String>,
    pub shipment_type: Option<String>,
    pub purchase_order: Option<String>,
    pub customer_shipment_identifier: Option<String>,
    pub additional_fields: Option<Json>,
    /// The subcontractor party the trip is assigned to.
    pub subcontractor: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
