//! One message on its way to one endpoint.
use sea_orm::entity::prelude::*;

use crate::domain::DeliveryState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub message_id: i64,
    pub endpoint_id: i64,
    pub ordering_key: Option<String>,
    pub state: DeliveryState,
    pub attempts: i32,
    /// `attempts` at the last replay or recovery: the retry schedule counts from here.
    pub attempts_before_replay: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// An outbound target's body as its mapping rendered it (none for a webhook).
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
    /// The rendered request's URL, method and headers, as JSON (see `outbound`).
    #[sea_orm(column_type = "Text", nullable)]
    pub request: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
