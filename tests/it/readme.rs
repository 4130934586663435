//! The README's configuration reference against the code: every setting, its
//! environment variable and its default; and the tests the Reliability table names. (`.ci/readme-check` runs the README's
//! commands and snippets.)

use std::collections::BTreeMap;

use freightgate::Config;
use serde_json::Value;

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));

/// The rows of the table under `## Configuration`: TOML key → (env cell, default cell).
fn documented_settings() -> BTreeMap<String, (String, String)> {
    let section = README
        .split("\n## Configuration\n")
        .nth(1)
        .expect("a Configuration section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let unquote = |cell: &str| cell.trim_matches(['|', ' ']).to_string();
            (
                unquote(cells[0]).trim_matches('`').to_string(),
                (unquote(cells[1]), unquote(cells[2])),
            )
        })
        .collect()
}

/// How the README writes a default: the value in backticks, or `empty`.
fn written_default(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "empty".to_string(),
        Value::Null => "unset".to_string(),
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

#[test]
fn the_configuration_table_lists_every_setting_with_its_environment_variable_and_default() {
    let documented = documented_settings();
    let Value::Object(defaults) = serde_json::to_value(Config::default()).unwrap() else {
        panic!("Config serialises to an object");
    };
    for (key, value) in &defaults {
        let (env, default) = documented
            .get(key)
            .unwrap_or_else(|| panic!("README's configuration table has no row for `{key}`"));
        let expected_env = if key == "database_url" {
            "DATABASE_URL".to_string()
        } else {
            format!("FREIGHTGATE_{}", key.to_uppercase())
        };
        assert_eq!(
            env,
            &format!("`{expected_env}`"),
            "environment variable of `{key}`"
        );
        let written = written_default(value);
        assert!(
            default == &written || default.starts_with(&format!("{written} ")),
            "README gives `{key}` the default {default}, the code {written}"
        );
    }
    for key in documented.keys() {
        assert!(
            defaults.contains_key(key),
            "README documents `{key}`, which is not a setting"
        );
    }
}

/// The codes in the first column of the table under `### Problem codes`.
fn documented_problem_codes() -> Vec<String> {
    let section = README
        .split("\n### Problem codes\n")
        .nth(1)
        .expect("a Problem codes section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            line.trim_start_matches("| `")
                .split('`')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn the_problem_code_table_lists_every_code_once_and_nothing_else() {
    use freightgate::error::ProblemCode;
    let documented = documented_problem_codes();
    let mut seen = std::collections::BTreeSet::new();
    for code in &documented {
        assert!(seen.insert(code), "`{code}` is listed twice");
        assert!(
            ProblemCode::parse(code).is_some(),
            "the README lists `{code}`, which freightgate never answers"
        );
    }
    for code in ProblemCode::ALL {
        assert!(
            seen.contains(&code.as_str().to_string()),
            "the README's problem code table has no row for `{code}`"
        );
    }
}

#[test]
fn the_events_table_lists_every_event_type_and_nothing_else() {
    use freightgate::domain::EventType;
    let section = README
        .split("\n### Events\n")
        .nth(1)
        .expect("an Events section")
        .split("\n### ")
        .next()
        .unwrap();
    let documented: std::collections::BTreeSet<String> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            let first = line.split(" | ").next().unwrap_or("");
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let known: std::collections::BTreeSet<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    assert_eq!(documented, known, "README's events table against EventType");
}

/// The source file of a test module path under `tests/it` (`hostile::races`), or of
/// a unit-test module under `src` (`webhooks::ssrf::tests`).
fn module_source(path: &[&str]) -> Option<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let candidates = if path.last() == Some(&"tests") {
        let module = path[..path.len() - 1].join("/");
        vec![
            format!("{root}/src/{module}.rs"),
            format!("{root}/src/{module}/mod.rs"),
        ]
    } else {
        let module = path.join("/");
        vec![
            format!("{root}/tests/it/{module}.rs"),
            format!("{root}/tests/it/{module}/mod.rs"),
        ]
    };
    candidates
        .into_iter()
        .find_map(|file| std::fs::read_to_string(file).ok())
}

#[test]
fn every_test_and_script_the_reliability_table_names_exists() {
    let section = README
        .split("\n## Reliability\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Reliability section");
    let mut named = 0;
    for line in section.lines().filter(|l| l.starts_with("| **")) {
        let proved_by = line.rsplit(" | ").next().unwrap_or("");
        for quoted in proved_by.split('`').skip(1).step_by(2) {
            if quoted.starts_with(".ci/") {
                let script = format!("{}/{quoted}", env!("CARGO_MANIFEST_DIR"));
                assert!(
                    std::path::Path::new(&script).exists(),
                    "{quoted} does not exist"
                );
                named += 1;
                continue;
            }
            if !quoted.contains("::") || quoted.ends_with('…') {
                continue;
            }
            let parts: Vec<&str> = quoted.split("::").collect();
            let (function, module) = parts.split_last().unwrap();
            let source = module_source(module)
                .unwrap_or_else(|| panic!("`{quoted}`: no module {}", module.join("::")));
            assert!(
                source.contains(&format!("fn {function}(")),
                "`{quoted}`: no test `{function}` in {}",
                module.join("::")
            );
            named += 1;
        }
    }
    assert!(named > 30, "only {named} tests named");
}
