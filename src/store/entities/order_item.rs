//! A line of an order.
use sea_orm::entity::prelude::*;

use crate::domain::{DimensionUnit, QuantityUnit, WeightUnit};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub position: i32,
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    pub quantity: f64,
    pub quantity_unit: QuantityUnit,
    pub purchase_order: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: bool,
    pub lot: Option<String>,
    pub expiration_date: Option<Date>,
    pub manufacturing_date: Option<Date>,
    pub metadata: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
