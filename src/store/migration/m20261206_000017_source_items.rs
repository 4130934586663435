//! What a pull source has stored of each item it pulled (the item's key and a digest
//! of its content), so that an item pulled again unchanged is recognised and left
//! alone; and each run's count of such items.

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
                    .table("source_items")
                    .if_not_exists()
                    .col(string_len("source", 64))
                    .col(string_len("item_key", 255))
                    .col(string_len("digest", 64))
                    .col(timestamp_with_time_zone("seen_at"))
                    .primary_key(Index::create().col("source").col("item_key"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("source_runs")
                    .add_column(integer("unchanged").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("source_runs")
                    .drop_column("unchanged")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("source_items").to_owned())
            .await
    }
}
