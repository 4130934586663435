//! Kargo's SKU master: `upsertSKUs` and `deleteSKUs`, with its field names.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use crate::app::master;
use crate::domain::{Scope, SkuFields};
use crate::graphql::context::{own_business, principal, slug, state};

#[derive(Default)]
pub struct SkuMutations;

/// One SKU to create or change; the fields not given stay as they are.
#[derive(InputObject)]
#[graphql(name = "SKUEntry", rename_fields = "snake_case")]
pub struct SkuEntry {
    pub sku_id: String,
    pub description: Option<String>,
    pub unit_of_measure: Option<String>,
    pub alternate_sku_ids: Option<Vec<String>>,
    pub sku_metadata: Option<String>,
}

/// Input for upserting SKUs.
#[derive(InputObject)]
#[graphql(name = "UpsertSKUInput", rename_fields = "snake_case")]
pub struct UpsertSkuInput {
    pub business_slug: String,
    pub facility_slug: String,
    #[graphql(name = "SKUs")]
    pub skus: Vec<SkuEntry>,
}

/// Input for deleting SKUs.
#[derive(InputObject)]
#[graphql(name = "DeleteSKUInput", rename_fields = "snake_case")]
pub struct DeleteSkuInput {
    pub business_slug: String,
    pub facility_slug: String,
    #[graphql(name = "SKUIDs")]
    pub sku_ids: Vec<String>,
}

/// What `upsertSKUs` did.
#[derive(SimpleObject)]
#[graphql(name = "UpsertSKUResult")]
pub struct UpsertSkuResult {
    pub num_records_added: i32,
    pub num_records_updated: i32,
}

/// How many SKUs `deleteSKUs` deleted.
#[derive(SimpleObject)]
#[graphql(name = "DeleteSKUResult")]
pub struct DeleteSkuResult {
    pub num_records_deleted: i32,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[Object]
impl SkuMutations {
    /// Creates or updates SKUs of a facility (the facility is created on first use
    /// unless `strict_facilities`). A SKU id twice in one call is refused. Each
    /// created or changed SKU publishes `sku.created` or `sku.updated`.
    #[graphql(name = "upsertSKUs")]
    async fn upsert_skus(
        &self,
        ctx: &Context<'_>,
        input: UpsertSkuInput,
    ) -> Result<UpsertSkuResult> {
        let who = principal(ctx, Scope::Write)?;
        own_business(who, &input.business_slug)?;
        let facility = slug("input.facility_slug", &input.facility_slug)?;
        let skus = input
            .skus
            .into_iter()
            .map(|entry| {
                let fields = SkuFields {
                    description: entry.description,
                    unit_of_measure: entry.unit_of_measure,
                    alternate_sku_ids: entry.alternate_sku_ids,
                    sku_metadata: entry.sku_metadata,
                    ..SkuFields::default()
                };
                (entry.sku_id, fields)
            })
            .collect();
        let counts = master::upsert_skus(state(ctx)?, who, &facility, skus).await?;
        Ok(UpsertSkuResult {
            num_records_added: count(counts.added),
            num_records_updated: count(counts.updated),
        })
    }

    /// Deletes SKUs of a facility by id: they are archived (kept, no longer listed)
    /// and publish `sku.archived`. Ids the facility does not have are not counted.
    #[graphql(name = "deleteSKUs")]
    async fn delete_skus(
        &self,
        ctx: &Context<'_>,
        input: DeleteSkuInput,
    ) -> Result<DeleteSkuResult> {
        let who = principal(ctx, Scope::Write)?;
        own_business(who, &input.business_slug)?;
        let facility = slug("input.facility_slug", &input.facility_slug)?;
        let deleted = master::delete_skus(state(ctx)?, who, &facility, &input.sku_ids).await?;
        Ok(DeleteSkuResult {
            num_records_deleted: count(deleted),
        })
    }
}
