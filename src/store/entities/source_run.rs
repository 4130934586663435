//! One run of a pull source: when, why, how many pages and items, the cursor before
//! and after, and how it ended.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source: String,
    pub business_id: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// `running`, `succeeded` or `failed`.
    pub outcome: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub pages: i32,
    pub items: i32,
    pub created: i32,
    pub updated: i32,
    pub rejected: i32,
    /// Items (or files) pulled again as they were stored before: left alone.
    pub unchanged: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor_before: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor_after: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
