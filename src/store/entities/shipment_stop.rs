//! One stop of a shipment's trip: where, when planned, and how it went.
use sea_orm::entity::prelude::*;

use crate::domain::{StopKind, StopStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_stops")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shipment_id: i64,
    /// 1, 2, …: the stop's place in the trip.
    pub seq: i32,
    pub kind: StopKind,
    pub location: Option<String>,
    pub address: Option<Json>,
    pub planned_from: Option<DateTimeUtc>,
    pub planned_to: Option<DateTimeUtc>,
    pub status: StopStatus,
    pub arrived_at: Option<DateTimeUtc>,
    pub departed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
