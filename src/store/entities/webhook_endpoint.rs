//! A receiver of one business's webhook pushes.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub business_id: i64,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// Event types the endpoint wants; `None` means all.
    pub event_types: Option<Json>,
    /// Facility slugs the endpoint wants; `None` means all.
    pub facilities: Option<Json>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub disabled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    /// The outbound target this row stands for (none: a webhook endpoint).
    pub outbound: Option<String>,
    /// Made by a subcontractor's key: receives only the events concerning that party.
    pub party: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn names(list: &Option<Json>) -> Option<Vec<String>> {
    list.as_ref().and_then(Json::as_array).map(|items| {
        items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    })
}

impl Model {
    /// The event types the endpoint wants; `None` means all.
    pub fn event_type_names(&self) -> Option<Vec<String>> {
        names(&self.event_types)
    }

    /// The facility slugs the endpoint wants; `None` means all.
    pub fn facility_slugs(&self) -> Option<Vec<String>> {
        names(&self.facilities)
    }
}
