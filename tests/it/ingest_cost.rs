//! What one ingested payload costs the database, counted statement by statement: a
//! regression here is a regression of every sender's throughput.

use crate::support::written;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use freightgate::app::App;
use freightgate::app::ingest::{Answer, Incoming};
use freightgate::domain::{Scope, Slug};
use freightgate::ingest;
use freightgate::store::gate::WriteGate;
use freightgate::store::keys;

use crate::support::{TestDb, config_for};

/// A Northwind trailer schedule with `orders` orders of three items each.
fn schedule(n: usize, orders: usize) -> String {
    let orders: Vec<serde_json::Value> = (0..orders)
        .map(|j| {
            serde_json::json!({
                "orderNumber": format!("SO-{n}-{j}"),
                "items": (0..3).map(|k| serde_json::json!({
                    "lpn": format!("00387123450000{n:02}{j:02}{k}"), "sku": format!("SKU-{k}"),
                    "quantity": 24, "quantityUnit": "CASE"
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    serde_json::json!({
        "business": "northwind", "facility": "rotterdam-dc", "direction": "OUTBOUND",
        "shipmentNumber": format!("NW-SHP-{n}"),
        "appointment": { "start": "2026-06-11T08:30:00+02:00", "dock": "D07" },
        "orders": orders
    })
    .to_string()
}

/// `documents` ERP orders (rule `bavaria-erp-order`) in one payload, as a pull source
/// stores a page: numbered after payload `n`.
fn erp_orders(n: usize, documents: usize) -> String {
    let feed = include_str!("../feeds/erp-flat-order.json");
    let mut orders = Vec::with_capacity(documents);
    for j in 0..documents {
        let mut order: serde_json::Value = serde_json::from_str(feed).unwrap();
        order["AuftragNr"] = format!("45{n:04}{j:04}").into();
        orders.push(order);
    }
    serde_json::Value::from(orders).to_string()
}

/// Statements the ingest of schedule `n` with `orders` orders runs.
async fn statements_for(orders: usize) -> usize {
    statements_of("northwind", |n| schedule(n, orders)).await
}

/// Statements the second of two payloads of `business`, `payload(0)` and
/// `payload(1)`, runs.
async fn statements_of(business: &str, payload: impl Fn(usize) -> String) -> usize {
    let counted = Counted::new(business).await;
    let mut statements = 0;
    // The second payload is the steady state: facility and dock exist by then.
    for n in 0..2 {
        counted.counter.store(0, Ordering::SeqCst);
        let answer = freightgate::app::ingest::ingest(
            &counted.app,
            Incoming {
                principal: &counted.principal,
                content_type: Some("application/json"),
                body: payload(n).into(),
                key: None,
                source: freightgate::ingest::Source::Rest,
            },
            None,
        )
        .await
        .unwrap();
        let Answer::Fresh(ack) = answer else {
            panic!("a payload without a key was answered as a repeat")
        };
        assert_eq!(ack.status(), 201, "{}", ack.body());
        statements = counted.counter.load(Ordering::SeqCst);
    }
    statements
}

/// An application whose statements are counted, on a fresh database, with a key of
/// `business` that may ingest, read and write.
pub(crate) struct Counted {
    pub(crate) app: App,
    principal: keys::Principal,
    plaintext: String,
    counter: Arc<AtomicUsize>,
    /// Of those, the statements on the writers' own pool.
    writes: Arc<AtomicUsize>,
    /// The ingest writers run while this is held.
    _writers: tokio::task::JoinSet<()>,
    _database: TestDb,
}

impl Counted {
    pub(crate) async fn new(business: &str) -> Self {
        let database = TestDb::new().await;
        let mut db = database.connect().await;
        let created = written(&db, async |t| {
            keys::create(
                t,
                &Slug::parse(business).unwrap(),
                "t",
                &[Scope::Ingest, Scope::Read, Scope::Write],
            )
            .await
        })
        .await
        .unwrap();
        let principal = keys::authenticate(&db, &created.plaintext)
            .await
            .unwrap()
            .unwrap();
        let counter = Arc::new(AtomicUsize::new(0));
        let seen = counter.clone();
        db.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        let config = config_for(&database.url);
        let gate = WriteGate::for_db(&db);
        let settings = ingest::writer::Settings::from_config(&config);
        // The writers' statements run on a pool of their own: count those too.
        let mut own =
            freightgate::store::own_pool(&db, settings.writers as u32, settings.sqlite_cache_kib);
        let (seen, writes) = (counter.clone(), Arc::new(AtomicUsize::new(0)));
        let written = writes.clone();
        own.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            written.fetch_add(1, Ordering::SeqCst);
        });
        let (writer, writers) = ingest::writer::Writer::start_on(own, gate.clone(), settings);
        let app = App {
            db: db.clone(),
            rules: Arc::new(freightgate::load_rules(&config).unwrap()),
            config: Arc::new(config),
            writer,
            gate,
            sources: Arc::new(freightgate::sources::Registry::from_texts(&[]).unwrap()),
            outbound: Arc::new(freightgate::outbound::Outbound::empty()),
        };
        Self {
            app,
            principal,
            plaintext: created.plaintext,
            counter,
            writes,
            _writers: writers,
            _database: database,
        }
    }
}

#[tokio::test]
async fn a_shipment_with_orders_costs_a_bounded_number_of_statements_per_order() {
    let one = statements_for(1).await;
    let eight = statements_for(8).await;
    assert!(one > 0, "no statement was counted");
    // The orders, their items and the events' messages go in multi-row statements
    // (cut in power-of-two sizes), the existing orders are looked up in one, and the
    // events read the slugs and the endpoints once: more orders add hardly any.
    assert!(
        eight <= one + 3,
        "1 order: {one} statements, 8 orders: {eight}: more orders should not cost more statements"
    );
    assert!(one <= 16, "a shipment with one order took {one} statements");
}

#[tokio::test]
async fn a_payload_of_many_documents_looks_up_facility_slugs_and_endpoints_once() {
    let one = statements_of("bavaria-buero", |n| erp_orders(n, 1)).await;
    let nine = statements_of("bavaria-buero", |n| erp_orders(n, 9)).await;
    assert!(one > 0, "no statement was counted");
    // Each further document is its own unit (its savepoint's statements are not
    // counted here): its order looked up, the order, its items and its message
    // written. The facility, the slugs and the endpoints were read by the first unit
    // and handed on.
    assert!(
        nine <= one + 8 * 4,
        "1 document: {one} statements, 9 documents: {nine}: more than 4 per further document"
    );
}

/// The canonical order that rule `bavaria-erp-order` makes of `erp_orders(n, 1)`.
fn canonical_order(n: usize) -> serde_json::Value {
    let mut order: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/erp-flat-order.canonical.json")).unwrap();
    order["order_number"] = format!("45{n:04}{:04}", 0).into();
    order
}

#[tokio::test]
async fn a_rest_order_create_costs_no_more_statements_than_ingest_of_the_same_order() {
    use tower::ServiceExt;

    let ingested = statements_of("bavaria-buero", |n| erp_orders(n, 1)).await;
    let counted = Counted::new("bavaria-buero").await;
    let router = freightgate::http::router(counted.app.clone(), Default::default());
    let mut created = 0;
    for n in 0..2 {
        counted.writes.store(0, Ordering::SeqCst);
        let request = axum::http::Request::post("/v1/orders")
            .header("authorization", format!("Bearer {}", counted.plaintext))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(canonical_order(n).to_string()))
            .unwrap();
        let answer = router.clone().oneshot(request).await.unwrap();
        let status = answer.status();
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        // The writers' statements only: the key's lookup runs on the main pool, and
        // a revocation anywhere in the process makes it read the key again.
        created = counted.writes.load(Ordering::SeqCst);
    }
    assert!(
        created <= ingested,
        "REST create: {created} statements, ingest of the same order: {ingested}"
    );
}
