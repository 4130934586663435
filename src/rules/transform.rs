//! Named value transforms applied in order after a value is read.

use super::value::{preview, rounded, type_name};
use serde_json::Value;

/// A transform named in a mapping's `transform = [...]` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    Trim,
    Upper,
    Lower,
    Number,
    String,
    Bool,
    LbToKg,
    InchToCm,
}

/// Every transform name, for error messages and docs.
pub(crate) const NAMES: &[&str] = &[
    "trim",
    "upper",
    "lower",
    "number",
    "string",
    "bool",
    "lb_to_kg",
    "inch_to_cm",
];

const KG_PER_LB: f64 = 0.453_592_37;
const CM_PER_INCH: f64 = 2.54;

impl Transform {
    /// Looks a transform up by its name in rules files.
    pub fn parse(name: &str) -> Option<Self> {
        use Transform::*;
        let all = [Trim, Upper, Lower, Number, String, Bool, LbToKg, InchToCm];
        NAMES.iter().position(|n| *n == name).map(|i| all[i])
    }

    /// Applies the transform; the error is a message for an `invalid_value` finding.
    pub fn apply(self, v: Value) -> Result<Value, String> {
        match self {
            Transform::Trim => Ok(map_str(v, |s| s.trim().to_string())),
            Transform::Upper => Ok(map_str(v, |s| s.to_uppercase())),
            Transform::Lower => Ok(map_str(v, |s| s.to_lowercase())),
            Transform::Number => to_number(v),
            Transform::String => to_string(v),
            Transform::Bool => to_bool(v),
            Transform::LbToKg => scale(v, KG_PER_LB, 3, "pounds"),
            Transform::InchToCm => scale(v, CM_PER_INCH, 2, "inches"),
        }
    }
}

fn map_str(v: Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(&s)),
        other => other,
    }
}

/// Reads a number from a JSON number or numeric text; integers stay integers.
pub(crate) fn number_of(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Some(Value::from(i));
            }
            t.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }
        _ => None,
    }
}

fn to_number(v: Value) -> Result<Value, String> {
    if v.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(Value::String(String::new()));
    }
    number_of(&v).ok_or_else(|| format!("{} is not a number", preview(&v)))
}

fn to_string(v: Value) -> Result<Value, String> {
    match v {
        Value::String(_) => Ok(v),
        Value::Number(n) => Ok(Value::String(n.to_string())),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        other => Err(format!("expected text, found {}", type_name(&other))),
    }
}

fn to_bool(v: Value) -> Result<Value, String> {
    let text = match &v {
        Value::Bool(_) => return Ok(v),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_lowercase(),
        _ => String::new(),
    };
    match text.as_str() {
        "true" | "yes" | "y" | "1" | "ja" | "j" | "x" => Ok(Value::Bool(true)),
        "false" | "no" | "n" | "0" | "nein" => Ok(Value::Bool(false)),
        "" if v.is_string() => Ok(Value::String(String::new())),
        _ => Err(format!("{} is not a yes/no value", preview(&v))),
    }
}

fn scale(v: Value, factor: f64, places: i32, unit: &str) -> Result<Value, String> {
    if v.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(Value::String(String::new()));
    }
    number_of(&v)
        .and_then(|n| n.as_f64())
        .and_then(|f| rounded(f * factor, places))
        .ok_or_else(|| format!("{} is not a number of {unit}", preview(&v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pounds_become_kilograms_to_the_gram() {
        assert_eq!(Transform::LbToKg.apply(json!(88.2)), Ok(json!(40.007)));
        assert_eq!(Transform::LbToKg.apply(json!("26.5")), Ok(json!(12.02)));
        assert!(Transform::LbToKg.apply(json!("heavy")).is_err());
        assert_eq!(Transform::InchToCm.apply(json!(10)), Ok(json!(25.4)));
    }

    #[test]
    fn text_transforms_leave_other_types_alone() {
        assert_eq!(Transform::Upper.apply(json!(" gb ")), Ok(json!(" GB ")));
        assert_eq!(Transform::Trim.apply(json!(5)), Ok(json!(5)));
        assert_eq!(Transform::Number.apply(json!(" 12 ")), Ok(json!(12)));
        assert!(Transform::Number.apply(json!("1e999")).is_err());
        assert_eq!(Transform::Bool.apply(json!("Yes")), Ok(json!(true)));
    }

    #[test]
    fn every_name_parses() {
        assert!(NAMES.iter().all(|n| Transform::parse(n).is_some()));
        assert_eq!(Transform::parse("reverse"), None);
    }
}
