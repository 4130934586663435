//! Roles on API keys: a key is the tenant's own (no role, as every key before), or
//! bound to one of the business's parties, whose code it carries: a customer key
//! sees and changes only that customer's orders and their shipments.

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
                    .table("api_keys")
                    .add_column(string_len_null("role", 16))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("api_keys")
                    .add_column(string_len_null("party", 128))
                    .to_owned(),
            )
            .await?;
        // A customer key lists its orders, and the shipments carrying them, by
        // customer.
        manager
            .create_index(
                Index::create()
                    .name("orders_customer")
                    .table("orders")
                    .col("business_id")
                    .col("customer")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("orders_customer")
                    .table("orders")
                    .to_owned(),
            )
            .await?;
        for column in ["party", "role"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("api_keys")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
