//! A master-data record: a party, a resource or a SKU, by its code.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "master_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    /// `party`, `resource` or `sku`.
    pub entity: String,
    /// The SKU's facility; 0 for parties and resources.
    pub facility_scope: i64,
    pub code: String,
    /// A party's role (`CUSTOMER`, `SUBCONTRACTOR`) or a resource's kind (`DRIVER`,
    /// `VEHICLE`, `TRAILER`); none for SKUs.
    pub kind: Option<String>,
    pub name: Option<String>,
    /// The record's fields as the canonical document, without its code.
    pub data: Json,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
