//! The first complete answer given for an Idempotency-Key.
use sea_orm::entity::prelude::*;

use crate::domain::KeyState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    pub key: String,
    pub fingerprint: String,
    pub state: KeyState,
    pub response_status: Option<i32>,
    /// The answer, for keys stored before answers were kept once; newer keys name
    /// the payload record holding it (`logging_id`).
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// The payload record whose stored answer a retry replays.
    pub logging_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
