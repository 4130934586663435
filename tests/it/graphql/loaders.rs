//! Data loaders keep a listing's database round trips constant.

use crate::support::written;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use freightgate::app::App;
use freightgate::domain::{OrderNumber, Quantity, QuantityUnit, Scope, ShipmentNumber, Slug};
use freightgate::graphql;
use freightgate::store::orders::{self, ItemFields, OrderFields};
use freightgate::store::shipments::{self, ShipmentFields};
use freightgate::store::{Db, keys, tenancy};

use crate::support::{TestDb, config_for};

const LISTING: &str = "query($n: Int!) { shipmentsConnection(first: $n) { edges { node {
    id status facility { slug } dock { slug } statusEvents { completed }
    documents { id } pallets { palletId }
    orders { orderNumber items { sku quantity } } } } } }";

async fn seed(db: &Db, shipments_count: usize) -> keys::Principal {
    let slug = Slug::parse("northwind").unwrap();
    let created = written(db, async |t| {
        keys::create(t, &slug, "test", &[Scope::Read]).await
    })
    .await
    .unwrap();
    let facility = written(db, async |t| {
        tenancy::facility(t, created.business.id, &Slug::parse("dc").unwrap(), false).await
    })
    .await
    .unwrap();
    for s in 0..shipments_count {
        let fields = ShipmentFields {
            dock: Some(Slug::parse(&format!("D{}", s % 5)).unwrap()),
            ..ShipmentFields::default()
        };
        let number = ShipmentNumber::parse(&format!("S-{s}")).unwrap();
        let shipment = written(db, async |t| {
            shipments::create(t, &facility, &number, fields).await
        })
        .await
        .unwrap();
        for o in 0..2 {
            let items = (0..3)
                .map(|i| {
                    let mut item =
                        ItemFields::new(Quantity::new(1.0 + i as f64).unwrap(), QuantityUnit::Case);
                    item.sku = Some(format!("SKU-{i}"));
                    item
                })
                .collect();
            let fields = OrderFields {
                shipment_id: Some(shipment.id),
                items: Some(items),
                ..OrderFields::default()
            };
            let number = OrderNumber::parse(&format!("O-{s}-{o}")).unwrap();
            written(db, async |t| {
                orders::create(t, &facility, &number, fields).await
            })
            .await
            .unwrap();
        }
    }
    keys::authenticate(db, &created.plaintext)
        .await
        .unwrap()
        .unwrap()
}

/// Statements the listing of `n` shipments (each with 2 orders of 3 items) costs.
async fn statements_for(n: usize) -> usize {
    let database = TestDb::new().await;
    let mut db = database.connect().await;
    let principal = seed(&db, n).await;
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = counter.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let config = config_for(&database.url);
    let rules = freightgate::load_rules(&config).unwrap();
    let gate = freightgate::store::gate::WriteGate::for_db(&db);
    let (writer, _writers) = freightgate::ingest::writer::Writer::start(
        db.clone(),
        gate.clone(),
        freightgate::ingest::writer::Settings::from_config(&config),
    );
    let state = App {
        db: db.clone(),
        config: Arc::new(config),
        rules: Arc::new(rules),
        writer,
        gate,
        sources: Arc::new(freightgate::sources::Registry::from_texts(&[]).unwrap()),
        outbound: Arc::new(freightgate::outbound::Outbound::empty()),
    };
    let schema = graphql::schema(state);
    let request = async_graphql::Request::new(LISTING)
        .variables(async_graphql::Variables::from_json(
            serde_json::json!({ "n": n }),
        ))
        .data(graphql::request_data(principal, db.clone()));
    counter.store(0, Ordering::SeqCst);
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let json = response.data.into_json().unwrap();
    let edges = json["shipmentsConnection"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), n);
    assert_eq!(edges[0]["node"]["orders"][1]["items"][2]["sku"], "SKU-2");
    counter.load(Ordering::SeqCst)
}

// Multi-threaded like the server, so loader batches fire on their own timers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_100_shipments_with_orders_and_items_costs_as_many_statements_as_listing_3() {
    // Without loaders this listing costs over 700 statements (7 per shipment, 1 per
    // order); the list loads each relation its selection asks for once, up front.
    let few = statements_for(3).await;
    let many = statements_for(100).await;
    assert_eq!(
        many, few,
        "100 shipments with 200 orders and 600 items cost {many} statements, 3 cost {few}"
    );
    assert!(few <= 10, "{few} statements for a listing");
}
