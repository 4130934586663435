//! Payload records an operator can search: the problem codes and references of
//! their answer, the door they came through, the payload a reprocess started from,
//! and indexes for the listing's filters (newest first within a business).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "inbound_payloads";

/// (index name, columns after `business_id`)
const INDEXES: &[(&str, &[&str])] = &[
    ("ix_inbound_business_id", &["id"]),
    ("ix_inbound_business_outcome", &["outcome", "id"]),
    ("ix_inbound_business_rule", &["rule", "id"]),
    ("ix_inbound_business_key", &["api_key_id", "id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            text_null("problem_codes"),
            text_null("refs"),
            string_null("source"),
            string_null("reprocess_of"),
        ] {
            manager
                .alter_table(Table::alter().table(TABLE).add_column(column).to_owned())
                .await?;
        }
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(TABLE).col("business_id");
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(*name).table(TABLE).to_owned())
                .await?;
        }
        for column in ["problem_codes", "refs", "source", "reprocess_of"] {
            manager
                .alter_table(Table::alter().table(TABLE).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
