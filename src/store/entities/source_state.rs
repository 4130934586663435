//! A pull source's state: the cursor its last committed page reached, whether an
//! operator paused it, and which instance holds its run lease until when.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub business_id: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor: Option<String>,
    pub paused: bool,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
