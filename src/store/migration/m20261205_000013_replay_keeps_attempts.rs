//! A replayed delivery keeps counting its attempts: `attempts_before_replay` holds
//! the count at the last replay or recovery, and the retry schedule starts again
//! from there, so the attempt log's numbers continue instead of restarting at 1.

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
                    .table("deliveries")
                    .add_column(integer("attempts_before_replay").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("deliveries")
                    .drop_column("attempts_before_replay")
                    .to_owned(),
            )
            .await
    }
}
