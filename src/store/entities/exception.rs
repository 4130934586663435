//! Something that went wrong with a shipment or one of its pallets.
use sea_orm::entity::prelude::*;

use crate::domain::ExceptionPriority;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exceptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub shipment_id: i64,
    pub pallet_id: Option<i64>,
    pub priority: ExceptionPriority,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub created_at: DateTimeUtc,
    /// When it happened, as the sender said; `created_at` is when it was recorded.
    pub occurred_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
