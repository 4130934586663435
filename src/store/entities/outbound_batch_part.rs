//! A part of an outbound batch file: the documents one event rendered for a batched
//! mapping, waiting for the end of its period.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_batch_parts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The outbound target's row among the webhook endpoints.
    pub endpoint_id: i64,
    pub mapping: String,
    pub period_start: DateTimeUtc,
    /// The end of the period: when the batch's file is made.
    pub due_at: DateTimeUtc,
    /// A JSON list: the documents (or CSV rows) the event rendered.
    pub documents: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
