//! Hostile rules files: the loader and `freightgate rules check` report them as
//! errors; nothing panics or overflows the stack.

use std::process::Command;

use freightgate::rules::load_str;

const BIN: &str = env!("CARGO_BIN_EXE_freightgate");

/// Rules files no loader may choke on: (file name, content).
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let deep_arrays = format!("a = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_tables = format!("a = {}1{}\n", "{b = ".repeat(10_000), "}".repeat(10_000));
    let dotted = format!("{} = 1\n", vec!["k"; 10_000].join("."));
    let long_key = format!("\"{}\" = 1\n", "k".repeat(1024 * 1024));
    let rule = |matcher: &str| {
        format!(
            "[[rule]]\nname = \"r\"\noperation = \"create\"\nentity = \"order\"\n{matcher}\nmap = {{ order_number = \"$.a\" }}\n"
        )
        .into_bytes()
    };
    vec![
        (
            "invalid-utf8.toml",
            b"[[rule]]\nname = \"\xff\xfe\"\n".to_vec(),
        ),
        ("nul.toml", b"[[rule]]\nname = \"a\0b\"\n\0\0\0".to_vec()),
        ("deep-arrays.toml", deep_arrays.into_bytes()),
        ("deep-tables.toml", deep_tables.into_bytes()),
        ("dotted.toml", dotted.into_bytes()),
        ("long-key.toml", long_key.into_bytes()),
        (
            "truncated.toml",
            b"[[rule]]\nname = \"r\"\nmatch = { path = \"$.a".to_vec(),
        ),
        (
            "huge-regex.toml",
            rule(&format!(
                "match = {{ path = \"$.a\", regex = \"{}\" }}",
                "(a*)*".repeat(2000)
            )),
        ),
        (
            "deep-path.toml",
            rule(&format!(
                "match = {{ path = \"${}\", exists = true }}",
                ".a".repeat(10_000)
            )),
        ),
        (
            "bad-path.toml",
            rule("match = { path = \"$[?(@.a ==\", exists = true }"),
        ),
        (
            "thousands-of-rules.toml",
            rule("match = { path = \"$.a\", exists = true }").repeat(2000),
        ),
    ]
}

#[test]
fn hostile_rules_files_are_load_errors_not_crashes() {
    for (name, content) in corpus() {
        let Ok(text) = String::from_utf8(content) else {
            continue;
        };
        if let Ok((set, _)) = load_str(name, &text) {
            // Whatever loads must still run.
            let _ = set.process("acme", &serde_json::json!({"a": "x"}));
        }
    }
}

#[test]
fn rules_check_reports_every_hostile_file_and_fails_without_crashing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in corpus() {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let output = Command::new(BIN)
        .args(["rules", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{stderr}"
    );
    for name in [
        "invalid-utf8.toml",
        "deep-arrays.toml",
        "truncated.toml",
        "bad-path.toml",
    ] {
        assert!(
            stdout.contains(name) || stderr.contains(name),
            "{name} not reported: {stdout}\n{stderr}"
        );
    }
}
