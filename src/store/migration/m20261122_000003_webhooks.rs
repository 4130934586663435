//! Webhooks: endpoints, the outbox of messages, one delivery per message and
//! endpoint, and the log of every attempt.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(table: &str, column: &str, target: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table.to_string(), column.to_string())
        .to(target.to_string(), "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table("webhook_endpoints")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(text("url"))
            .col(text_null("description"))
            .col(json_binary_null("event_types"))
            .col(json_binary_null("facilities"))
            .col(string_len("secret", 128))
            .col(string_len_null("previous_secret", 128))
            .col(timestamp_with_time_zone_null("previous_secret_expires_at"))
            .col(boolean("disabled"))
            .col(text_null("disabled_reason"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("webhook_endpoints", "business_id", "businesses"))
            .to_owned(),
        Table::create()
            .table("messages")
            .col(big_pk_auto("id"))
            .col(string_len_uniq("webhook_id", 64))
            .col(big_integer("business_id"))
            .col(big_integer_null("facility_id"))
            .col(string_len("event_type", 64))
            .col(string_len_null("ordering_key", 64))
            .col(text("body"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("messages", "business_id", "businesses"))
            .foreign_key(&mut fk("messages", "facility_id", "facilities"))
            .to_owned(),
        Table::create()
            .table("deliveries")
            .col(big_pk_auto("id"))
            .col(big_integer("message_id"))
            .col(big_integer("endpoint_id"))
            .col(string_len_null("ordering_key", 64))
            .col(string_len("state", 16))
            .col(integer("attempts"))
            .col(timestamp_with_time_zone("next_attempt_at"))
            .col(string_len_null("lease_owner", 64))
            .col(timestamp_with_time_zone_null("lease_expires_at"))
            .col(integer_null("last_status"))
            .col(text_null("last_error"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("deliveries", "message_id", "messages"))
            .foreign_key(&mut fk("deliveries", "endpoint_id", "webhook_endpoints"))
            .to_owned(),
        Table::create()
            .table("delivery_attempts")
            .col(big_pk_auto("id"))
            .col(big_integer("delivery_id"))
            .col(integer("attempt"))
            .col(timestamp_with_time_zone("attempted_at"))
            .col(integer_null("status_code"))
            .col(integer("duration_ms"))
            .col(text_null("response_body"))
            .col(text_null("error"))
            .foreign_key(&mut fk("delivery_attempts", "delivery_id", "deliveries"))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    let index = |name: &str, table: &str, columns: &[&str]| {
        let mut index = Index::create();
        index.name(name).table(table.to_string());
        for column in columns {
            index.col(String::from(*column));
        }
        index.to_owned()
    };
    vec![
        index(
            "ix_webhook_endpoints_business",
            "webhook_endpoints",
            &["business_id"],
        ),
        index(
            "ix_messages_business_id",
            "messages",
            &["business_id", "id"],
        ),
        index(
            "ix_deliveries_due",
            "deliveries",
            &["state", "next_attempt_at"],
        ),
        index(
            "ix_deliveries_endpoint_order",
            "deliveries",
            &["endpoint_id", "ordering_key", "id"],
        ),
        index("ix_deliveries_message", "deliveries", &["message_id"]),
        index(
            "ix_delivery_attempts_delivery",
            "delivery_attempts",
            &["delivery_id"],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "delivery_attempts",
            "deliveries",
            "messages",
            "webhook_endpoints",
        ] {
            manager
                .drop_table(Table::drop().table(table.to_string()).to_owned())
                .await?;
        }
        Ok(())
    }
}
