//! One entry of a shipment's status history.
use sea_orm::entity::prelude::*;

use crate::domain::ShipmentStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_status_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shipment_id: i64,
    pub status: ShipmentStatus,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    /// Why, when the sender said (a cancel's reason).
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
