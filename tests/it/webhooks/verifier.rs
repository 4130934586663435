//! Checking received pushes: our own HMAC check here, and the independent
//! `standardwebhooks` library when CI provides it.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::receiver::Push;

/// Whether one of the push's signatures was made with `secret`.
pub fn signed_with(push: &Push, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let content = format!(
        "{}.{}.{}",
        push.header("webhook-id"),
        push.header("webhook-timestamp"),
        push.body
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(content.as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    push.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// Verifies pushes with the `standardwebhooks` Python library at
/// `$STANDARDWEBHOOKS_PYTHON`; returns false when that is not configured.
pub fn verified_by_standardwebhooks(pushes: &[Push], secret: &str) -> bool {
    let Ok(python) = std::env::var("STANDARDWEBHOOKS_PYTHON") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set STANDARDWEBHOOKS_PYTHON so pushes are checked by an independent verifier"
        );
        return false;
    };
    let cases: Vec<serde_json::Value> = pushes
        .iter()
        .map(|p| {
            serde_json::json!({
                "body": p.body,
                "headers": {
                    "webhook-id": p.header("webhook-id"),
                    "webhook-timestamp": p.header("webhook-timestamp"),
                    "webhook-signature": p.header("webhook-signature"),
                },
            })
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/verify_webhooks.py");
    let output = Command::new(python)
        .arg(script)
        .arg(secret)
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "standardwebhooks refused a push: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}
