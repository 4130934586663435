//! The payloads and the rule set the scenarios use.

use std::path::Path;

use serde_json::{Value, json};

/// Target size of the ingest payload.
pub const PAYLOAD_BYTES: usize = 5 * 1024;

/// A Northwind WMS trailer schedule (rule `northwind-wms-shipment`) numbered `n`, with
/// `orders` orders of three items each; numbers are unique per `n` so every payload creates.
pub fn wms(run: &str, n: u64, orders: usize) -> Value {
    let orders: Vec<Value> = (0..orders)
        .map(|j| {
            json!({
                "orderNumber": format!("SO-{run}-{n}-{j}"),
                "purchaseOrder": format!("PO-{n}-{j}"),
                "requestedDeliveryDate": "2026-06-12T16:00:00+02:00",
                "consignee": { "name": "Hendriks Retail BV", "street": "Industrieweg 14", "city": "Utrecht", "postalCode": "3542 AD", "country": "NL" },
                "items": (0..3).map(|k| json!({
                    "lpn": format!("003871234500{n:06}{j:02}{k}"), "sku": format!("CHAIR-OAK-{k:02}"), "quantity": 24,
                    "quantityUnit": "CASE", "weightPerUnit": 11.5, "weightUnit": "KILOGRAM"
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    json!({
        "business": "northwind",
        "facility": "rotterdam-dc",
        "direction": "OUTBOUND",
        "shipmentNumber": format!("NW-SHP-{run}-{n}"),
        "appointment": { "start": "2026-06-11T08:30:00+02:00", "dock": "D07" },
        "carrier": { "name": "Van Dijk Transport", "service": "FTL" },
        "trailerNumber": "BX-482-K",
        "sealNumber": "SL998812",
        "orders": orders
    })
}

/// The smallest order count that makes a payload at least `PAYLOAD_BYTES` long.
pub fn orders_for_5kb(run: &str) -> usize {
    (1..100)
        .find(|&o| wms(run, 0, o).to_string().len() >= PAYLOAD_BYTES)
        .expect("a 5 KB payload")
}

/// Copies the repository's rules into `dir` and adds generic (unscoped) rules of other
/// senders until `total` rules are loaded; the added rules never match the WMS payload,
/// so every request is classified against the whole set.
pub fn rules_dir(repo_rules: &Path, dir: &Path, total: usize) -> usize {
    let mut existing = 0;
    for entry in std::fs::read_dir(repo_rules).expect("rules dir") {
        let path = entry.expect("rules entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("rules file");
            existing += text.lines().filter(|l| l.trim() == "[[rule]]").count();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).expect("copy rules");
        }
    }
    let filler: String = (0..total.saturating_sub(existing))
        .map(|i| {
            format!(
                r#"
[[rule]]
name = "bench-sender-{i}"
operation = "create"
entity = "order"
match = {{ all = [ {{ path = "$.source.system", equals = "sys-{i}" }}, {{ path = "$.operation", equals = "CREATE" }}, {{ path = "$.order.id", regex = "^[A-Z]+-\\d+$" }} ] }}
[rule.map]
order_number = "$.order.id"
customer = "$.order.customer"
[rule.map.consignee]
path = "$.order.deliver_to"
map = {{ name = "$.name", address_one = "$.street", city = "$.city", postal_code = "$.zip", country = "$.country" }}
[rule.map.items]
path = "$.order.lines[*]"
map = {{ sku = "$.sku", quantity = "$.qty" }}
"#
            )
        })
        .collect();
    std::fs::write(dir.join("zz-bench-senders.toml"), filler).expect("write rules");
    existing.max(total)
}
