//! The README's configuration reference against the code: every setting, its
//! environment variable and its default. (`.ci/readme-check` runs the README's
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
