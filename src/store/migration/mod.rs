//! Schema migrations. Later changes add new migrations; released ones are never edited.

use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_idempotency;
mod m20261122_000003_webhooks;
mod m20261122_000004_graphql;
mod m20261125_000005_key_rate_limit;
mod m20261125_000006_deliveries_due_by_endpoint;
mod m20261204_000007_idempotency_answer_once;
mod m20261205_000008_instance_settings;
mod m20261205_000009_inbound_listing;
mod m20261205_000010_test_messages;
mod m20261205_000011_inbound_by_time;
mod m20261205_000012_inbound_bodies;
mod m20261205_000013_replay_keeps_attempts;
mod m20261205_000014_cancel_reason_and_exception_time;
mod m20261205_000015_shipment_measures;
mod m20261205_000016_sources;
mod m20261206_000017_source_items;
mod m20261207_000018_outbound;
mod m20261208_000019_outbound_batches;
mod m20261209_000020_master_data;
mod m20261210_000021_key_roles;
mod m20261211_000022_trips;
mod m20261212_000023_pending_order_index;

/// The ordered list of freightgate's migrations.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_idempotency::Migration),
            Box::new(m20261122_000003_webhooks::Migration),
            Box::new(m20261122_000004_graphql::Migration),
            Box::new(m20261125_000005_key_rate_limit::Migration),
            Box::new(m20261125_000006_deliveries_due_by_endpoint::Migration),
            Box::new(m20261204_000007_idempotency_answer_once::Migration),
            Box::new(m20261205_000008_instance_settings::Migration),
            Box::new(m20261205_000009_inbound_listing::Migration),
            Box::new(m20261205_000010_test_messages::Migration),
            Box::new(m20261205_000011_inbound_by_time::Migration),
            Box::new(m20261205_000012_inbound_bodies::Migration),
            Box::new(m20261205_000013_replay_keeps_attempts::Migration),
            Box::new(m20261205_000014_cancel_reason_and_exception_time::Migration),
            Box::new(m20261205_000015_shipment_measures::Migration),
            Box::new(m20261205_000016_sources::Migration),
            Box::new(m20261206_000017_source_items::Migration),
            Box::new(m20261207_000018_outbound::Migration),
            Box::new(m20261208_000019_outbound_batches::Migration),
            Box::new(m20261209_000020_master_data::Migration),
            Box::new(m20261210_000021_key_roles::Migration),
            Box::new(m20261211_000022_trips::Migration),
            Box::new(m20261212_000023_pending_order_index::Migration),
        ]
    }
}
