//! Integration tests: each starts the real app on port 0 with a fresh database
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod architecture;
mod auth;
mod cli;
mod edi;
mod errors;
mod explain;
mod graphql;
mod health;
mod hostile;
mod idempotency;
mod ingest;
mod ingest_cost;
mod kept;
mod master;
mod operator;
mod outbound;
mod readers;
mod readme;
mod reliability;
mod reload;
mod rest;
mod roles;
mod rules;
mod secrets;
mod shipment_orders;
mod sources;
mod sources_files;
mod sources_shipped;
mod status;
mod store;
mod support;
mod tenants;
mod trips;
mod webhooks;
