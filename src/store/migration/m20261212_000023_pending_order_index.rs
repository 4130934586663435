//! The claim's ordering check ("no earlier pending delivery of the same ordering
//! key") reads a partial index of pending deliveries only. It replaces the index over
//! every delivery of an endpoint and key: delivered rows drop out of it, and with
//! every condition of the check in the index, a claim is a few index probes whatever
//! PostgreSQL's statistics say of the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "deliveries";
const OLD: &str = "ix_deliveries_endpoint_order";
const NEW: &str = "ix_deliveries_pending_order";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(TABLE)
                    .col("endpoint_id")
                    .col("ordering_key")
                    .col("id")
                    .and_where(Expr::col("state").eq("pending"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(TABLE).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(TABLE)
                    .col("endpoint_id")
                    .col("ordering_key")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(TABLE).to_owned())
            .await
    }
}
