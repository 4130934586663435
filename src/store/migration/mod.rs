//! Schema migrations. Later changes add new migrations; released ones are never edited.

use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_idempotency;
// 000003 is taken by the webhook outbox.
mod m20261122_000004_graphql;

/// The ordered list of freightgate's migrations.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_idempotency::Migration),
            Box::new(m20261122_000004_graphql::Migration),
        ]
    }
}
