//! Parts of outbound batch files: each event a batched mapping takes leaves its
//! rendered documents here, in the change's transaction, until its period ends and
//! the period's parts become one file (one delivery).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbound_batch_parts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("endpoint_id"))
                    .col(string_len("mapping", 64))
                    .col(timestamp_with_time_zone("period_start"))
                    .col(timestamp_with_time_zone("due_at"))
                    .col(text("documents"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("outbound_batch_parts", "endpoint_id")
                            .to("webhook_endpoints", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbound_batch_parts_due")
                    .table("outbound_batch_parts")
                    .col("due_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("outbound_batch_parts").to_owned())
            .await
    }
}
