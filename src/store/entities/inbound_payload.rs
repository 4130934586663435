//! Every payload received, with the rule that matched and the outcome; its body
//! and answer are in `inbound_body`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_payloads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub logging_id: String,
    pub business_id: i64,
    pub api_key_id: Option<i64>,
    pub content_type: String,
    pub body_sha256: String,
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    pub outcome: String,
    pub received_at: DateTimeUtc,
    /// The answer's problem codes, each between spaces (` missing_field duplicate `),
    /// so one is found with `LIKE '% code %'`.
    #[sea_orm(column_type = "Text", nullable)]
    pub problem_codes: Option<String>,
    /// The references (shipment and order numbers, …) the answer names, one per line.
    #[sea_orm(column_type = "Text", nullable)]
    pub refs: Option<String>,
    /// The door it came through: `rest`, `graphql` or `reprocess`.
    pub source: Option<String>,
    /// The logging id of the payload this one reprocessed.
    pub reprocess_of: Option<String>,
    /// The pull source run that fetched it (`source` is then `pull`).
    pub source_run_id: Option<i64>,
    /// For a partner's reply, the outbound delivery it answered.
    pub delivery_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
