//! Overload, crashes and database outages: what freightgate guarantees when pushed.

mod crash;
mod group_commit;
mod limits;
mod load;
mod outage;

use std::time::Duration;

use freightgate::store::{self, Db};
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait};

use crate::support::TestApp;

/// The sample TMS order under a new order number, so every payload creates a row.
pub fn order_payload(order_number: &str) -> String {
    crate::ingest::feed("tms-order-create.json").replace("TMS-2026-118734", order_number)
}

/// Orders and accepted inbound payloads stored, across businesses.
pub async fn stored(db: &Db) -> (u64, u64) {
    use freightgate::store::entities::{inbound_payload, order};
    use sea_orm::{ColumnTrait, QueryFilter};
    let orders = order::Entity::find().count(db).await.expect("count orders");
    let accepted = inbound_payload::Entity::find()
        .filter(inbound_payload::Column::Outcome.is_in(["accepted", "accepted_with_warnings"]))
        .count(db)
        .await
        .expect("count payloads");
    (orders, accepted)
}

/// Blocks every ingest write from another connection until the transaction ends:
/// SQLite's write lock, or PostgreSQL table locks that still let readers through.
pub async fn hold_writes(app: &TestApp) -> DatabaseTransaction {
    let txn = store::begin_write(&app.db).await.expect("begin");
    if app.database.is_postgres() {
        txn.execute_unprepared(
            "LOCK TABLE inbound_payloads, idempotency_keys, orders IN EXCLUSIVE MODE",
        )
        .await
        .expect("lock tables");
    }
    txn
}

/// The `Retry-After` of a response, in seconds.
pub fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A client that gives up on a hung request: a hang fails the test, it never blocks it.
pub fn bounded_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
