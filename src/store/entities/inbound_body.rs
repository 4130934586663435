//! The body as received and the answer sent of each payload record, apart from the
//! record so listings and their filters read narrow rows.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_bodies")]
pub struct Model {
    /// The `inbound_payloads` row it belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub payload_id: i64,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub response: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
