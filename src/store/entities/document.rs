//! A file attached to a shipment or an order (POD, CMR, BOL, …).
use sea_orm::entity::prelude::*;

use crate::domain::DocumentType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub shipment_id: Option<i64>,
    pub order_id: Option<i64>,
    pub document_type: DocumentType,
    pub external_id: Option<String>,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub content: Vec<u8>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
