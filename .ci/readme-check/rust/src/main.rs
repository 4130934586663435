//! Runs the README's Rust snippet (`snippet::verify`) on a captured push: the real
//! body must verify, the body with one more byte must not.
mod snippet;

use http::{HeaderMap, HeaderName, HeaderValue};

fn main() {
    let path = std::env::args().nth(1).expect("the captured push's file");
    let push: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable push")).expect("JSON push");
    let mut headers = HeaderMap::new();
    for (name, value) in push["headers"].as_object().expect("headers") {
        headers.insert(
            HeaderName::from_bytes(name.to_lowercase().as_bytes()).expect("header name"),
            HeaderValue::from_str(value.as_str().expect("header value")).expect("header value"),
        );
    }
    let body = push["body"].as_str().expect("body").as_bytes();
    let event = snippet::verify(&headers, body).expect("a real push verifies");
    assert_eq!(event["type"], "shipment.created", "unexpected event {event}");
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(snippet::verify(&headers, &tampered).is_err(), "the tampered body verified");
    println!("rust snippet: verified a real push and refused a tampered one");
}
