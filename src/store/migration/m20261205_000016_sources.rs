//! Pull sources: each source's state (its committed cursor, whether it is paused,
//! which instance holds its run lease) and its runs; a pulled payload's record names
//! the run it came in.

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
                    .table("source_states")
                    .if_not_exists()
                    .col(string_len("name", 64).primary_key())
                    .col(big_integer("business_id"))
                    .col(text_null("cursor"))
                    .col(boolean("paused").default(false))
                    .col(string_len_null("lease_owner", 64))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("source_runs")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("source", 64))
                    .col(big_integer("business_id"))
                    .col(string_len("trigger", 16))
                    .col(string_len("outcome", 16))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .col(integer("pages").default(0))
                    .col(integer("items").default(0))
                    .col(integer("created").default(0))
                    .col(integer("updated").default(0))
                    .col(integer("rejected").default(0))
                    .col(text_null("cursor_before"))
                    .col(text_null("cursor_after"))
                    .col(text_null("error"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("source_runs_by_source")
                    .table("source_runs")
                    .col("source")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .add_column(big_integer_null("source_run_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .drop_column("source_run_id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("source_runs").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("source_states").to_owned())
            .await
    }
}
