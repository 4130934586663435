//! Payload bodies and answers move to their own table: a payload record's row was
//! mostly its body (kilobytes, on overflow pages), and every listing filter on a
//! column stored after it (problem codes, references) read the whole body of each
//! row it looked at. The listing now reads narrow rows.

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
                    .table("inbound_bodies")
                    .col(big_integer("payload_id").primary_key())
                    .col(text("body"))
                    .col(json_binary_null("response"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_bodies_payload")
                            .from("inbound_bodies", "payload_id")
                            .to("inbound_payloads", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO inbound_bodies (payload_id, body, response) \
             SELECT id, body, response FROM inbound_payloads",
        )
        .await?;
        // One column per statement: SQLite drops one at a time.
        for column in ["body", "response"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("inbound_payloads")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .add_column(text("body").default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("inbound_payloads")
                    .add_column(json_binary_null("response"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE inbound_payloads SET \
             body = (SELECT b.body FROM inbound_bodies b WHERE b.payload_id = inbound_payloads.id), \
             response = (SELECT b.response FROM inbound_bodies b WHERE b.payload_id = inbound_payloads.id)",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("inbound_bodies").to_owned())
            .await
    }
}
