//! What senders say of a shipment as a whole: its gross weight and unit, volume (in
//! cubic metres) and how many pallets and packages it holds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 5] = [
    "gross_weight",
    "weight_unit",
    "volume",
    "pallet_count",
    "package_count",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            double_null("gross_weight"),
            string_len_null("weight_unit", 16),
            double_null("volume"),
            integer_null("pallet_count"),
            integer_null("package_count"),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("shipments")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("shipments")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
