//! Small helpers over JSON values: TOML conversion, loose equality, previews.

use serde_json::{Map, Number, Value};

/// Converts a TOML value from a rules file into JSON.
pub(crate) fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("number {f} cannot be represented in JSON"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => {
            let mut map = Map::new();
            for (k, v) in t {
                map.insert(k.clone(), toml_to_json(v)?);
            }
            Value::Object(map)
        }
    })
}

/// JSON equality where `1` equals `1.0` (senders are inconsistent about number types).
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        _ => a == b,
    }
}

fn numbers_equal(x: &Number, y: &Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    match (x.as_f64(), y.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Index key for a number: its f64 bits, with -0 folded into 0.
pub(crate) fn number_key(n: &Number) -> Option<u64> {
    let f = n.as_f64()?;
    Some(if f == 0.0 {
        0.0f64.to_bits()
    } else {
        f.to_bits()
    })
}

/// JSON number from an f64, `None` when not finite.
pub(crate) fn json_number(f: f64) -> Option<Value> {
    Number::from_f64(f).map(Value::Number)
}

/// Rounds to `places` decimals, keeping integers integral in the output.
pub(crate) fn rounded(f: f64, places: i32) -> Option<Value> {
    let factor = 10f64.powi(places);
    let r = (f * factor).round() / factor;
    if r.fract() == 0.0 && r.abs() < 9.0e15 {
        Some(Value::from(r as i64))
    } else {
        json_number(r)
    }
}

const PREVIEW_CHARS: usize = 120;

/// A bounded rendering of a value for explanations and messages.
pub(crate) fn preview(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("\"{}\"", truncate(s, PREVIEW_CHARS)),
        Value::Array(a) if a.len() > 20 => format!("array of {} elements", a.len()),
        Value::Object(o) if o.len() > 20 => format!("object with {} keys", o.len()),
        other => other.to_string(),
    };
    truncate(&text, PREVIEW_CHARS + 20)
}

/// Truncates on a character boundary, marking the cut.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// Human name of a JSON type, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_and_floats_compare_equal() {
        assert!(loose_eq(&json!(1), &json!(1.0)));
        assert!(loose_eq(&json!({"a": [1, "x"]}), &json!({"a": [1.0, "x"]})));
        assert!(!loose_eq(&json!("1"), &json!(1)));
    }

    #[test]
    fn rounding_keeps_grams() {
        assert_eq!(rounded(88.2 * 0.453_592_37, 3), Some(json!(40.007)));
        assert_eq!(rounded(2.0, 3), Some(json!(2)));
    }

    #[test]
    fn previews_are_bounded() {
        let long = "x".repeat(10_000);
        assert!(preview(&json!(long)).chars().count() < 200);
    }
}
