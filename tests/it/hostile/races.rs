//! Writes that race on one order: cancel against cancel, update or added lines
//! against cancel, the last line's removal against an added line. Whoever reads the
//! order first, the status check holds until the write: one `order.cancelled` per
//! order and nothing after it. On SQLite writers take turns; on PostgreSQL the order's
//! row is locked.

use freightgate::domain::Scope;
use freightgate::store::entities::{message, order, order_item};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::ingest::feed;
use crate::support::{TestApp, internal_id, public_id};

const ROUNDS: usize = 20;

fn with_number(name: &str, number: &str) -> String {
    let mut doc: Value = serde_json::from_str(&feed(name)).unwrap();
    doc["order_identifier"] = Value::String(number.to_string());
    doc.to_string()
}

async fn ingest(app: &TestApp, key: &str, body: String) -> u16 {
    crate::ingest::post(app, key, "application/json", body)
        .await
        .status()
        .as_u16()
}

/// Creates order `number` through ingest; its id as the API shows it.
async fn create(app: &TestApp, key: &str, number: &str) -> i64 {
    let status = ingest(app, key, with_number("tms-order-create.json", number)).await;
    assert_eq!(status, 201);
    let row = order::Entity::find()
        .filter(order::Column::OrderNumber.eq(number))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the order");
    public_id(row.id)
}

/// The event types written for order `id`, in order.
async fn events(app: &TestApp, id: i64) -> Vec<String> {
    message::Entity::find()
        .filter(message::Column::OrderingKey.eq(format!("order:{}", internal_id(id))))
        .order_by_asc(message::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.event_type)
        .collect()
}

/// Asserts one `order.cancelled` and nothing after it.
fn cancelled_once_and_last(events: &[String], round: usize) {
    let cancels = events.iter().filter(|e| *e == "order.cancelled").count();
    assert_eq!(cancels, 1, "round {round}: {events:?}");
    assert_eq!(
        events.last().map(String::as_str),
        Some("order.cancelled"),
        "round {round}: something changed the order after it was cancelled: {events:?}"
    );
}

#[tokio::test]
async fn two_cancels_at_once_emit_one_order_cancelled() {
    let app = TestApp::spawn_with(|c| c.db_max_connections = 10).await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Write]).await;
    for round in 0..ROUNDS {
        let number = format!("RACE-CC-{round}");
        let id = create(&app, &key, &number).await;
        let cancel = with_number("tms-order-cancel.json", &number);
        let rest = app
            .client
            .post(app.url(&format!("/v1/orders/{id}/cancel")))
            .bearer_auth(&key)
            .send();
        let (a, b) = tokio::join!(ingest(&app, &key, cancel), rest);
        assert_eq!(a, 200, "round {round}");
        assert_eq!(b.unwrap().status(), 200, "round {round}");
        cancelled_once_and_last(&events(&app, id).await, round);
    }
}

#[tokio::test]
async fn an_update_racing_a_cancel_never_changes_the_cancelled_order() {
    let app = TestApp::spawn_with(|c| c.db_max_connections = 10).await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Write]).await;
    for round in 0..ROUNDS {
        let number = format!("RACE-UC-{round}");
        let id = create(&app, &key, &number).await;
        let update = with_number("tms-order-update.json", &number);
        let cancel = with_number("tms-order-cancel.json", &number);
        let (updated, cancelled) =
            tokio::join!(ingest(&app, &key, update), ingest(&app, &key, cancel));
        assert_eq!(cancelled, 200, "round {round}");
        // The update went first (200) or found the order cancelled (409/422).
        assert!(
            matches!(updated, 200 | 409 | 422),
            "round {round}: {updated}"
        );
        cancelled_once_and_last(&events(&app, id).await, round);
    }
}

#[tokio::test]
async fn lines_upserted_while_the_last_line_is_removed_never_land_on_a_cancelled_order() {
    let app = TestApp::spawn_with(|c| c.db_max_connections = 10).await;
    let key = app
        .key("acme", &[Scope::Ingest, Scope::Write, Scope::Read])
        .await;
    let upsert = "mutation($input: OrderInput!) { createOrUpdateOrder(input: $input) { id type } }";
    for round in 0..ROUNDS {
        let number = format!("RACE-LL-{round}");
        let created = app
            .post_json(
                "/v1/orders",
                &key,
                &json!({"order_number": number, "facility": "rotterdam-dc", "direction": "OUTBOUND",
                        "items": [{"sku": "ONLY", "quantity": 1}]}),
            )
            .await;
        assert_eq!(created.status(), 201);
        let id = created.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let remove = app
            .client
            .delete(app.url(&format!("/v1/orders/{id}/items/ONLY")))
            .bearer_auth(&key)
            .send();
        let input = json!({"input": {"businessSlug": "acme", "facilitySlug": "rotterdam-dc",
            "orderNumber": number, "direction": "OUTBOUND",
            "items": [{"identifier": format!("NEW-{round}"), "sku": "NEW", "quantity": 1}]}});
        let add = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&key)
            .json(&json!({"query": upsert, "variables": input}))
            .send();
        let (removed, added) = tokio::join!(remove, add);
        // The upsert replaces the lines: when it goes first, the removal finds no
        // line `ONLY` (404).
        let removed = removed.unwrap().status().as_u16();
        assert!(matches!(removed, 200 | 404), "round {round}: {removed}");
        let added: Value = added.unwrap().json().await.unwrap();
        let order = order::Entity::find_by_id(internal_id(id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let remaining: Vec<String> = order_item::Entity::find()
            .filter(order_item::Column::OrderId.eq(internal_id(id)))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|l| l.sku)
            .collect();
        if order.status == freightgate::domain::OrderStatus::Cancelled {
            assert_eq!(removed, 200, "round {round}");
            assert!(
                remaining.is_empty(),
                "round {round}: a cancelled order holds {remaining:?} ({added})"
            );
            assert_eq!(
                added["errors"][0]["extensions"]["code"], "order_cancelled",
                "round {round}: {added}"
            );
            cancelled_once_and_last(&events(&app, id).await, round);
        } else {
            assert_eq!(
                added["data"]["createOrUpdateOrder"]["type"], "UPDATE",
                "round {round}: {added}"
            );
            assert!(
                remaining.contains(&"NEW".to_string()),
                "round {round}: {remaining:?}"
            );
        }
    }
}
