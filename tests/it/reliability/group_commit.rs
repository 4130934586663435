//! Group commit: payloads that queue up together share a transaction, and each is
//! acknowledged only after that transaction committed.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};

use super::{bounded_client, hold_writes, order_payload, stored};
use crate::support::TestApp;

#[tokio::test]
async fn payloads_queued_behind_the_write_lock_are_acknowledged_only_after_they_commit_together() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_sec = 0;
        // One writer: with more, PostgreSQL shares the queued payloads out.
        c.ingest_writers = 1;
    })
    .await;
    let key = app.key("acme", &[freightgate::domain::Scope::Ingest]).await;
    let client = bounded_client();
    let lock = hold_writes(&app).await;
    let requests: Vec<_> = (0..10)
        .map(|n| {
            let (client, key, url) = (client.clone(), key.clone(), app.url("/v1/ingest"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(key)
                    .header("content-type", "application/json")
                    .body(order_payload(&format!("GC-{n}")))
                    .send()
                    .await
                    .expect("an answer")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        requests.iter().all(|r| !r.is_finished()),
        "no payload may be acknowledged while its transaction cannot commit"
    );
    assert_eq!(stored(&app.db).await, (0, 0));
    lock.rollback().await.expect("release the lock");
    for request in requests {
        assert_eq!(request.await.expect("request task"), 201);
    }
    assert_eq!(
        stored(&app.db).await,
        (10, 10),
        "every acknowledged payload stored"
    );
    if app.database.is_postgres() {
        // The first payload's transaction waited on the lock while the other nine
        // queued: they form the next one.
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COUNT(DISTINCT xmin::text)::bigint AS n FROM inbound_payloads",
            ))
            .await
            .expect("count transactions")
            .expect("a row");
        let transactions: i64 = row.try_get("", "n").expect("n");
        assert!(
            transactions <= 2,
            "10 queued payloads took {transactions} transactions"
        );
    }
}
