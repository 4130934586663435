//! A pallet seen at a dock while a shipment is loaded or unloaded.
use sea_orm::entity::prelude::*;

use crate::domain::PalletDirection;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pallets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub facility_id: i64,
    pub shipment_id: i64,
    pub pallet_code: String,
    pub direction: PalletDirection,
    pub occurred_at: DateTimeUtc,
    pub dock_id: Option<i64>,
    pub labels: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
