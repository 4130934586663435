//! A customer order, optionally assigned to a shipment.
use sea_orm::entity::prelude::*;

use crate::domain::{OrderDirection, OrderStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub facility_id: i64,
    pub order_number: String,
    pub external_id: Option<String>,
    pub customer: Option<String>,
    pub direction: OrderDirection,
    pub status: OrderStatus,
    pub order_type: Option<String>,
    pub purchase_order: Option<String>,
    pub requested_ship_date: Option<DateTimeUtc>,
    pub requested_delivery_date: Option<DateTimeUtc>,
    pub service_level: Option<String>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub bol_number: Option<String>,
    pub seal_number: Option<String>,
    pub shipper: Option<Json>,
    pub consignee: Option<Json>,
    pub payer: Option<Json>,
    pub pickup_window_start: Option<DateTimeUtc>,
    pub pickup_window_end: Option<DateTimeUtc>,
    pub delivery_window_start: Option<DateTimeUtc>,
    pub delivery_window_end: Option<DateTimeUtc>,
    pub addons: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub shipment_id: Option<i64>,
    pub expected_quantity: Option<f64>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// Why it was cancelled, when the canceller said.
    #[sea_orm(column_type = "Text", nullable)]
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
