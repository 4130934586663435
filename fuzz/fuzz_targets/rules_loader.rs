//! The rules loader on arbitrary text: loading never panics, and a rule set that
//! loads classifies, maps and explains the sample payloads without panicking.
#![no_main]

use std::sync::OnceLock;

use freightgate::rules::load_str;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn payloads() -> &'static [Value] {
    static PAYLOADS: OnceLock<Vec<Value>> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        [
            include_str!("../../tests/feeds/tms-order-create.json"),
            include_str!("../../tests/feeds/wms-shipment-with-orders.json"),
            include_str!("../../tests/feeds/dock-pallet-scan.json"),
            include_str!("../../tests/feeds/erp-flat-order.json"),
        ]
        .iter()
        .map(|text| serde_json::from_str(text).expect("sample feeds are JSON"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((rules, _report)) = load_str("fuzz.toml", text) else {
        return;
    };
    for payload in payloads() {
        for business in ["acme", "northwind", "bavaria-buero"] {
            let _ = rules.process(business, payload);
            let _ = rules.explain(business, payload);
        }
    }
});
