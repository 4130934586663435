//! An Idempotency-Key's answer is stored once: the key names the payload record
//! (`logging_id`) whose stored answer a retry replays, instead of holding a second
//! copy. `response_body` stays for keys written before.

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
                    .table("idempotency_keys")
                    .add_column(string_null("logging_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("idempotency_keys")
                    .drop_column("logging_id")
                    .to_owned(),
            )
            .await
    }
}
