//! Group commit: payloads that queue up together share a transaction, and each is
//! acknowledged only after that transaction committed. The other doors' creates
//! (REST, GraphQL) queue with them.

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

#[tokio::test]
async fn rest_creates_queued_together_commit_together_and_a_duplicate_fails_alone() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_sec = 0;
        c.ingest_writers = 1;
    })
    .await;
    let key = app
        .key(
            "acme",
            &[
                freightgate::domain::Scope::Write,
                freightgate::domain::Scope::Read,
            ],
        )
        .await;
    let client = bounded_client();
    let lock = hold_writes(&app).await;
    // Ten orders, and the fourth's number once more.
    let numbers = (0..10)
        .map(|n| format!("RC-{n}"))
        .chain(["RC-3".to_string()]);
    let requests: Vec<_> = numbers
        .map(|number| {
            let (client, key, url) = (client.clone(), key.clone(), app.url("/v1/orders"));
            tokio::spawn(async move {
                let order = serde_json::json!({
                    "order_number": number, "customer": "C-1",
                    "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]
                });
                let answer = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&order)
                    .send()
                    .await
                    .expect("an answer");
                let status = answer.status().as_u16();
                (status, answer.text().await.expect("a body"))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        requests.iter().all(|r| !r.is_finished()),
        "no create may be answered while its transaction cannot commit"
    );
    assert_eq!(stored(&app.db).await.0, 0);
    lock.rollback().await.expect("release the lock");
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.expect("request task"));
    }
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s != 201).collect();
    assert_eq!(created, 10, "{answers:?}");
    assert_eq!(refused.len(), 1, "{answers:?}");
    assert_eq!(refused[0].0, 409, "{answers:?}");
    assert!(refused[0].1.contains("duplicate"), "{answers:?}");
    for (_, body) in answers.iter().filter(|(s, _)| *s == 201) {
        let view: serde_json::Value = serde_json::from_str(body).expect("an order");
        assert_eq!(view["items"].as_array().map(Vec::len), Some(2), "{view}");
        assert_eq!(view["facility"], "default", "{view}");
    }
    assert_eq!(
        stored(&app.db).await.0,
        10,
        "every order answered 201 is stored, and only those"
    );
    let lines = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM order_items",
        ))
        .await
        .expect("count lines")
        .expect("a row");
    assert_eq!(lines.try_get::<i64>("", "n").expect("n"), 20);
    // (How many transactions they took is not countable here: on PostgreSQL each
    // create's rows carry its savepoint's own transaction id.)
}

#[tokio::test]
async fn a_write_that_panics_is_answered_with_an_error_and_the_writer_lives_on() {
    let counted = crate::ingest_cost::Counted::new("acme").await;
    let app = &counted.app;
    let panicked: freightgate::error::Result<()> = app
        .grouped(|_unit| {
            Box::pin(async {
                if std::hint::black_box(true) {
                    panic!("a bug in a write");
                }
                Ok(())
            })
        })
        .await;
    let error = panicked.expect_err("a panic is an error");
    assert!(
        error.to_string().contains("a bug in a write")
            || format!("{error:?}").contains("a bug in a write"),
        "{error:?}"
    );
    // The one writer (SQLite has one) still writes.
    let written = app
        .grouped(|unit| {
            Box::pin(async move {
                use sea_orm::ConnectionTrait;
                unit.execute_unprepared("SELECT 1").await?;
                Ok(7)
            })
        })
        .await
        .expect("the writer answers after a panic");
    assert_eq!(written, 7);
}
