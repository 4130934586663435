//! Trips for subcontractors: a shipment may be assigned to a subcontractor party and
//! carry its stops, each with its planned window, actual times and execution status.
//! Messages record the party they concern (`audience`), so a subcontractor's key
//! pulls only its own, and a webhook endpoint made with such a key (`party`) receives
//! only those.

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
                    .table("shipments")
                    .add_column(string_len_null("subcontractor", 128))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shipments_subcontractor")
                    .table("shipments")
                    .col("business_id")
                    .col("subcontractor")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("shipment_stops")
                    .col(big_pk_auto("id"))
                    .col(big_integer("shipment_id"))
                    .col(integer("seq"))
                    .col(string_len("kind", 16))
                    .col(string_len_null("location", 256))
                    .col(json_binary_null("address"))
                    .col(timestamp_with_time_zone_null("planned_from"))
                    .col(timestamp_with_time_zone_null("planned_to"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone_null("arrived_at"))
                    .col(timestamp_with_time_zone_null("departed_at"))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("shipment_stops", "shipment_id")
                            .to("shipments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shipment_stops_seq")
                    .table("shipment_stops")
                    .col("shipment_id")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .add_column(string_len_null("audience", 128))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("webhook_endpoints")
                    .add_column(string_len_null("party", 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("webhook_endpoints")
                    .drop_column("party")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .drop_column("audience")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("shipment_stops").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("shipments_subcontractor")
                    .table("shipments")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("shipments")
                    .drop_column("subcontractor")
                    .to_owned(),
            )
            .await
    }
}
