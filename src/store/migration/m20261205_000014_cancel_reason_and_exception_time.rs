//! What a cancel and an exception carry besides their target, kept instead of
//! dropped: a cancel's reason (`note` on the shipment's status entry,
//! `cancel_reason` on the order) and the time an exception happened.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("shipment_status_events")
                    .add_column(text_null("note"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(text_null("cancel_reason"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("exceptions")
                    .add_column(timestamp_with_time_zone_null("occurred_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("exceptions", "occurred_at"),
            ("orders", "cancel_reason"),
            ("shipment_status_events", "note"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
