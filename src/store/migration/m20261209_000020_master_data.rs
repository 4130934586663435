//! Master data: the parties (customers and subcontractors), resources (drivers,
//! vehicles, trailers) and SKUs a business keeps in step with its own systems. One
//! table for the three: each record is found by its business, its entity, its
//! facility (SKUs only; 0 for the others) and its code, and keeps its descriptive
//! fields as the canonical JSON document. An archived record stays, so that orders
//! and keys naming it still resolve, and a later create restores it.

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
                    .table("master_records")
                    .col(big_pk_auto("id"))
                    .col(big_integer("business_id"))
                    .col(string_len("entity", 16))
                    .col(big_integer("facility_scope"))
                    .col(string_len("code", 128))
                    .col(string_len_null("kind", 16))
                    .col(string_len_null("name", 256))
                    .col(json_binary("data"))
                    .col(timestamp_with_time_zone_null("archived_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("master_records", "business_id")
                            .to("businesses", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("master_records_code")
                    .table("master_records")
                    .col("business_id")
                    .col("entity")
                    .col("facility_scope")
                    .col("code")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("master_records").to_owned())
            .await
    }
}
