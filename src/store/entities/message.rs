//! An event in the outbox, written with the change that caused it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt.
    #[sea_orm(unique)]
    pub webhook_id: String,
    pub business_id: i64,
    pub facility_id: Option<i64>,
    pub event_type: String,
    /// Deliveries with the same key go out in order (e.g. `shipment:42`).
    pub ordering_key: Option<String>,
    /// The exact bytes sent: `{"type", "timestamp", "data"}`.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub created_at: DateTimeUtc,
    /// Not an event of the business: an example sent to one endpoint on request,
    /// or an outbound batch file's message. Left out of the pull and subscriptions.
    pub is_test: bool,
    /// The party the event concerns besides the business (a trip's subcontractor):
    /// its keys pull the message, and its endpoints receive it.
    pub audience: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
