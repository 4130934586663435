//! The due index per endpoint: claims read each endpoint's due deliveries through
//! its own range of the index, so one endpoint's backlog is never walked to find
//! another's. It replaces the index over all endpoints' due deliveries.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "deliveries";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_endpoint_due")
                    .table(TABLE)
                    .col("endpoint_id")
                    .col("state")
                    .col("next_attempt_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_deliveries_due")
                    .table(TABLE)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_due")
                    .table(TABLE)
                    .col("state")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_deliveries_endpoint_due")
                    .table(TABLE)
                    .to_owned(),
            )
            .await
    }
}
