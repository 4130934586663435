//! Outbound targets: a webhook endpoint row per target declared in the outbound files
//! (`outbound` names it; at most one row per business and name), and each delivery's
//! request as its mapping rendered it (the body bytes and the URL and headers), so
//! that every attempt sends the same bytes. A partner's reply stored as a payload
//! names the delivery it answered.

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
                    .table("webhook_endpoints")
                    .add_column(string_len_null("outbound", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_endpoints_outbound")
                    .table("webhook_endpoints")
                    .col("business_id")
                    .col("outbound")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("deliveries")
                    .add_column(text_null("body"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("deliveries")
                    .add_column(text_null("request"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .add_column(big_integer_null("delivery_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .drop_column("delivery_id")
                    .to_owned(),
            )
            .await?;
        for column in ["request", "body"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("deliveries")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("webhook_endpoints_outbound")
                    .table("webhook_endpoints")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("webhook_endpoints")
                    .drop_column("outbound")
                    .to_owned(),
            )
            .await
    }
}
