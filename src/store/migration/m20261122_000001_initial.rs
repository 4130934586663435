//! The canonical model: tenants, facilities, shipments, orders and their satellites,
//! inbound payloads and API keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key from `table.column` to `target.id`.
fn fk(
    table: &str,
    column: &str,
    target: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table.to_string(), column.to_string())
        .to(target.to_string(), "id")
        .on_delete(on_delete)
        .to_owned()
}

fn index(name: &str, table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table.to_string());
    for column in columns {
        index.col(String::from(*column));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

fn tenancy() -> Vec<TableCreateStatement> {
    use ForeignKeyAction::{Cascade, Restrict};
    vec![
        Table::create()
            .table("businesses")
            .col(big_pk_auto("id"))
            .col(string_len_uniq("slug", 64))
            .col(string("name"))
            .col(created_at())
            .to_owned(),
        Table::create()
            .table("facilities")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(string_len("slug", 64))
            .col(string("name"))
            .col(string_null("address_one"))
            .col(string_null("address_two"))
            .col(string_null("city"))
            .col(string_null("state"))
            .col(string_null("zip"))
            .col(string_len_null("country", 2))
            .col(string_null("timezone"))
            .col(created_at())
            .foreign_key(&mut fk("facilities", "business_id", "businesses", Restrict))
            .to_owned(),
        Table::create()
            .table("docks")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer("facility_id"))
            .col(string_len("slug", 64))
            .col(string("display_name"))
            .col(created_at())
            .foreign_key(&mut fk("docks", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("docks", "facility_id", "facilities", Cascade))
            .to_owned(),
        Table::create()
            .table("api_keys")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(string_len_uniq("key_hash", 64))
            .col(string_len("prefix", 16))
            .col(string("name"))
            .col(string("scopes"))
            .col(created_at())
            .col(timestamp_with_time_zone_null("last_used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .foreign_key(&mut fk("api_keys", "business_id", "businesses", Restrict))
            .to_owned(),
    ]
}

fn shipments() -> Vec<TableCreateStatement> {
    use ForeignKeyAction::{Cascade, Restrict, SetNull};
    vec![
        Table::create()
            .table("shipments")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer("facility_id"))
            .col(string_len("shipment_number", 128))
            .col(string_len("direction", 16))
            .col(string_len("status", 32))
            .col(big_integer_null("dock_id"))
            .col(timestamp_with_time_zone_null("expected_arrival_at"))
            .col(timestamp_with_time_zone_null("arrived_at"))
            .col(timestamp_with_time_zone_null("loading_start_at"))
            .col(timestamp_with_time_zone_null("loading_end_at"))
            .col(timestamp_with_time_zone_null("departed_at"))
            .col(string_null("carrier"))
            .col(string_null("carrier_service"))
            .col(string_null("trailer_number"))
            .col(string_null("seal_number"))
            .col(string_null("driver_name"))
            .col(string_null("driver_phone"))
            .col(string_null("driver_license_plate"))
            .col(string_null("equipment_type"))
            .col(string_null("service_type"))
            .col(string_null("shipment_type"))
            .col(string_null("purchase_order"))
            .col(string_null("customer_shipment_identifier"))
            .col(json_binary_null("additional_fields"))
            .col(created_at())
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("shipments", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("shipments", "facility_id", "facilities", Restrict))
            .foreign_key(&mut fk("shipments", "dock_id", "docks", SetNull))
            .to_owned(),
        Table::create()
            .table("shipment_status_events")
            .col(big_pk_auto("id"))
            .col(big_integer("shipment_id"))
            .col(string_len("status", 32))
            .col(timestamp_with_time_zone("occurred_at"))
            .col(timestamp_with_time_zone("recorded_at"))
            .foreign_key(&mut fk(
                "shipment_status_events",
                "shipment_id",
                "shipments",
                Cascade,
            ))
            .to_owned(),
    ]
}

fn orders() -> Vec<TableCreateStatement> {
    use ForeignKeyAction::{Cascade, Restrict, SetNull};
    vec![
        Table::create()
            .table("orders")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer("facility_id"))
            .col(string_len("order_number", 128))
            .col(string_null("external_id"))
            .col(string_null("customer"))
            .col(string_len("direction", 16))
            .col(string_len("status", 16))
            .col(string_null("order_type"))
            .col(string_null("purchase_order"))
            .col(timestamp_with_time_zone_null("requested_ship_date"))
            .col(timestamp_with_time_zone_null("requested_delivery_date"))
            .col(string_null("service_level"))
            .col(string_null("carrier"))
            .col(string_null("carrier_service"))
            .col(string_null("bol_number"))
            .col(string_null("seal_number"))
            .col(json_binary_null("shipper"))
            .col(json_binary_null("consignee"))
            .col(json_binary_null("payer"))
            .col(timestamp_with_time_zone_null("pickup_window_start"))
            .col(timestamp_with_time_zone_null("pickup_window_end"))
            .col(timestamp_with_time_zone_null("delivery_window_start"))
            .col(timestamp_with_time_zone_null("delivery_window_end"))
            .col(json_binary("addons"))
            .col(text_null("notes"))
            .col(big_integer_null("shipment_id"))
            .col(timestamp_with_time_zone_null("cancelled_at"))
            .col(created_at())
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("orders", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("orders", "facility_id", "facilities", Restrict))
            .foreign_key(&mut fk("orders", "shipment_id", "shipments", SetNull))
            .to_owned(),
        Table::create()
            .table("order_items")
            .col(big_pk_auto("id"))
            .col(big_integer("order_id"))
            .col(integer("position"))
            .col(string_null("identifier"))
            .col(string_null("lpn"))
            .col(string_null("sku"))
            .col(string_null("description"))
            .col(string_null("upc"))
            .col(double("quantity"))
            .col(string_len("quantity_unit", 16))
            .col(string_null("purchase_order"))
            .col(double_null("weight_per_unit"))
            .col(string_len_null("weight_unit", 16))
            .col(double_null("length"))
            .col(double_null("width"))
            .col(double_null("height"))
            .col(string_len_null("dimension_unit", 16))
            .col(boolean("is_dangerous_good"))
            .col(string_null("lot"))
            .col(date_null("expiration_date"))
            .col(date_null("manufacturing_date"))
            .col(json_binary_null("metadata"))
            .foreign_key(&mut fk("order_items", "order_id", "orders", Cascade))
            .to_owned(),
    ]
}

fn satellites() -> Vec<TableCreateStatement> {
    use ForeignKeyAction::{Cascade, Restrict, SetNull};
    vec![
        Table::create()
            .table("pallets")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer("facility_id"))
            .col(big_integer("shipment_id"))
            .col(string_len("pallet_code", 128))
            .col(string_len("direction", 16))
            .col(timestamp_with_time_zone("occurred_at"))
            .col(big_integer_null("dock_id"))
            .col(json_binary("labels"))
            .col(created_at())
            .foreign_key(&mut fk("pallets", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("pallets", "facility_id", "facilities", Restrict))
            .foreign_key(&mut fk("pallets", "shipment_id", "shipments", Cascade))
            .foreign_key(&mut fk("pallets", "dock_id", "docks", SetNull))
            .to_owned(),
        Table::create()
            .table("pallet_orders")
            .col(big_integer("pallet_id"))
            .col(big_integer("order_id"))
            .primary_key(Index::create().col("pallet_id").col("order_id"))
            .foreign_key(&mut fk("pallet_orders", "pallet_id", "pallets", Cascade))
            .foreign_key(&mut fk("pallet_orders", "order_id", "orders", Cascade))
            .to_owned(),
        Table::create()
            .table("documents")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer_null("shipment_id"))
            .col(big_integer_null("order_id"))
            .col(string_len("document_type", 16))
            .col(string_null("external_id"))
            .col(string("file_name"))
            .col(string_len("mime_type", 128))
            .col(big_integer("size_bytes"))
            .col(string_len("sha256", 64))
            .col(blob("content"))
            .col(text_null("notes"))
            .col(timestamp_with_time_zone("uploaded_at"))
            .foreign_key(&mut fk("documents", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("documents", "shipment_id", "shipments", Cascade))
            .foreign_key(&mut fk("documents", "order_id", "orders", Cascade))
            .to_owned(),
        Table::create()
            .table("entity_references")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer_null("shipment_id"))
            .col(big_integer_null("order_id"))
            .col(string_len("kind", 64))
            .col(string("value"))
            .col(created_at())
            .foreign_key(&mut fk(
                "entity_references",
                "business_id",
                "businesses",
                Restrict,
            ))
            .foreign_key(&mut fk(
                "entity_references",
                "shipment_id",
                "shipments",
                Cascade,
            ))
            .foreign_key(&mut fk("entity_references", "order_id", "orders", Cascade))
            .to_owned(),
        Table::create()
            .table("exceptions")
            .col(big_pk_auto("id"))
            .col(big_integer("business_id"))
            .col(big_integer("shipment_id"))
            .col(big_integer_null("pallet_id"))
            .col(string_len("priority", 16))
            .col(text("description"))
            .col(created_at())
            .foreign_key(&mut fk("exceptions", "business_id", "businesses", Restrict))
            .foreign_key(&mut fk("exceptions", "shipment_id", "shipments", Cascade))
            .foreign_key(&mut fk("exceptions", "pallet_id", "pallets", SetNull))
            .to_owned(),
        Table::create()
            .table("inbound_payloads")
            .col(big_pk_auto("id"))
            .col(string_len_uniq("logging_id", 64))
            .col(big_integer("business_id"))
            .col(big_integer_null("api_key_id"))
            .col(string_len("content_type", 128))
            .col(string_len("body_sha256", 64))
            .col(text("body"))
            .col(string_null("rule"))
            .col(string_len_null("operation", 16))
            .col(string_len_null("entity", 16))
            .col(string_len("outcome", 32))
            .col(json_binary_null("response"))
            .col(timestamp_with_time_zone("received_at"))
            .foreign_key(&mut fk(
                "inbound_payloads",
                "business_id",
                "businesses",
                Restrict,
            ))
            .foreign_key(&mut fk(
                "inbound_payloads",
                "api_key_id",
                "api_keys",
                SetNull,
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "ux_facilities_business_slug",
            "facilities",
            &["business_id", "slug"],
            true,
        ),
        index(
            "ux_docks_facility_slug",
            "docks",
            &["facility_id", "slug"],
            true,
        ),
        index("ix_api_keys_business", "api_keys", &["business_id"], false),
        index(
            "ux_shipments_facility_number",
            "shipments",
            &["facility_id", "shipment_number"],
            true,
        ),
        index(
            "ix_shipments_business_updated",
            "shipments",
            &["business_id", "updated_at"],
            false,
        ),
        index(
            "ix_status_events_shipment",
            "shipment_status_events",
            &["shipment_id"],
            false,
        ),
        index(
            "ux_orders_facility_number",
            "orders",
            &["facility_id", "order_number"],
            true,
        ),
        index(
            "ix_orders_business_updated",
            "orders",
            &["business_id", "updated_at"],
            false,
        ),
        index("ix_orders_shipment", "orders", &["shipment_id"], false),
        index(
            "ix_order_items_order",
            "order_items",
            &["order_id", "position"],
            false,
        ),
        index("ix_pallets_shipment", "pallets", &["shipment_id"], false),
        index(
            "ix_pallet_orders_order",
            "pallet_orders",
            &["order_id"],
            false,
        ),
        index("ix_documents_order", "documents", &["order_id"], false),
        index(
            "ix_documents_shipment",
            "documents",
            &["shipment_id"],
            false,
        ),
        index(
            "ix_references_order",
            "entity_references",
            &["order_id"],
            false,
        ),
        index(
            "ix_references_shipment",
            "entity_references",
            &["shipment_id"],
            false,
        ),
        index(
            "ix_exceptions_shipment",
            "exceptions",
            &["shipment_id"],
            false,
        ),
        index(
            "ix_inbound_business_received",
            "inbound_payloads",
            &["business_id", "received_at"],
            false,
        ),
    ]
}

const TABLES_IN_DROP_ORDER: &[&str] = &[
    "inbound_payloads",
    "exceptions",
    "entity_references",
    "documents",
    "pallet_orders",
    "pallets",
    "order_items",
    "orders",
    "shipment_status_events",
    "shipments",
    "api_keys",
    "docks",
    "facilities",
    "businesses",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [tenancy(), shipments(), orders(), satellites()].concat() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES_IN_DROP_ORDER {
            manager
                .drop_table(Table::drop().table(String::from(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
