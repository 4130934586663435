//! Value transforms applied in order after a value is read: named ones
//! (`"trim"`) and ones with parameters (`{ replace = [",", "."] }`).

use super::value::{preview, rounded, type_name};
use regex::Regex;
use serde_json::Value;
use std::sync::Arc;

/// One entry of a mapping's `transform = [...]` list.
#[derive(Debug, Clone)]
pub(crate) enum Transform {
    Trim,
    Upper,
    Lower,
    Number,
    String,
    Bool,
    /// `number = { decimal = ",", thousands = "." }`: numbers written the local way.
    LocaleNumber {
        decimal: char,
        thousands: Option<char>,
    },
    Replace {
        from: std::string::String,
        to: std::string::String,
    },
    /// The part at `index` (from the end when negative) of the text split on `separator`.
    Split {
        separator: std::string::String,
        index: i64,
    },
    /// Characters from `start`, `len` of them (to the end when `None`).
    Substring {
        start: usize,
        len: Option<usize>,
    },
    Pad {
        width: usize,
        fill: char,
        left: bool,
    },
    /// The first capture group of the first match (the whole match without groups).
    Capture(Arc<Regex>),
    Multiply(f64),
    Divide(f64),
    Round(i32),
    /// A unit conversion: multiply by `factor`, from one unit of a kind to another,
    /// rounded to `places`.
    Convert {
        factor: f64,
        from: &'static str,
        places: i32,
    },
}

/// The names of the transforms without parameters.
const PLAIN: &[&str] = &[
    "trim",
    "upper",
    "lower",
    "number",
    "string",
    "bool",
    "lb_to_kg",
    "inch_to_cm",
];

/// The names of the transforms that take parameters, with how they are written.
const WITH_PARAMETERS: &[(&str, &str)] = &[
    ("replace", "[from, to]: two strings"),
    (
        "split",
        "[separator, index]: a string and an integer (negative counts from the end)",
    ),
    (
        "substring",
        "[start] or [start, length]: whole numbers of characters",
    ),
    (
        "pad_left",
        "[width, fill]: a width up to 1000 and one character",
    ),
    (
        "pad_right",
        "[width, fill]: a width up to 1000 and one character",
    ),
    (
        "regex",
        "a regular expression (its first capture group is kept)",
    ),
    ("multiply", "a finite number"),
    ("divide", "a finite number other than 0"),
    ("round", "a number of decimal places from 0 to 9"),
    (
        "number",
        "{ decimal = \",\", thousands = \".\" }: one character each; thousands is optional",
    ),
    (
        "convert",
        "[from, to]: two units of the same kind (mass, length or volume)",
    ),
];

/// Every transform name, for error messages and docs.
pub(crate) fn names() -> String {
    let mut all: Vec<&str> = PLAIN.to_vec();
    all.extend(
        WITH_PARAMETERS
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| *n != "number"),
    );
    all.join(", ")
}

/// Units by kind, each with its size in the kind's base unit (kg, m, m³).
const UNITS: &[(&str, &str, f64)] = &[
    ("mass", "mg", 1e-6),
    ("mass", "g", 1e-3),
    ("mass", "kg", 1.0),
    ("mass", "t", 1e3),
    ("mass", "oz", 0.028_349_523_125),
    ("mass", "lb", 0.453_592_37),
    ("length", "mm", 1e-3),
    ("length", "cm", 1e-2),
    ("length", "dm", 1e-1),
    ("length", "m", 1.0),
    ("length", "in", 0.0254),
    ("length", "ft", 0.3048),
    ("length", "yd", 0.9144),
    ("volume", "ml", 1e-6),
    ("volume", "cm3", 1e-6),
    ("volume", "l", 1e-3),
    ("volume", "dm3", 1e-3),
    ("volume", "m3", 1.0),
    ("volume", "in3", 0.000_016_387_064),
    ("volume", "ft3", 0.028_316_846_592),
];

/// Arithmetic results are rounded to this many places, so binary floating-point
/// noise (`1234 × 0.001 = 1.2340000000000002`) never reaches the store.
const PLACES: i32 = 9;
const MAX_PAD: usize = 1000;

impl Transform {
    /// Compiles one entry of a `transform` list: a name, or a table with one key
    /// naming the transform and its parameters. The error says what is accepted.
    pub fn compile(entry: &toml::Value) -> Result<Self, std::string::String> {
        match entry {
            toml::Value::String(name) => Self::plain(name),
            toml::Value::Table(table) if table.len() == 1 => {
                let (name, params) = table.iter().next().expect("one entry");
                Self::with_parameters(name, params)
            }
            _ => Err(format!(
                "a transform is a name (\"trim\") or a table with one key ({{ replace = [\",\", \".\"] }}); known: {}",
                names()
            )),
        }
    }

    fn plain(name: &str) -> Result<Self, std::string::String> {
        use Transform::*;
        Ok(match name {
            "trim" => Trim,
            "upper" => Upper,
            "lower" => Lower,
            "number" => Number,
            "string" => String,
            "bool" => Bool,
            // Kept as they always were: to the gram and to the tenth of a millimetre.
            "lb_to_kg" => convert("lb", "kg", 3)?,
            "inch_to_cm" => convert("in", "cm", 2)?,
            other => {
                return Err(match WITH_PARAMETERS.iter().find(|(n, _)| *n == other) {
                    Some((n, how)) => format!("`{n}` takes parameters: {{ {n} = {how} }}"),
                    None => format!("unknown transform `{other}` (known: {})", names()),
                });
            }
        })
    }

    fn with_parameters(name: &str, p: &toml::Value) -> Result<Self, std::string::String> {
        let Some((_, how)) = WITH_PARAMETERS.iter().find(|(n, _)| *n == name) else {
            return Err(if PLAIN.contains(&name) {
                format!("`{name}` takes no parameters: write \"{name}\"")
            } else {
                format!("unknown transform `{name}` (known: {})", names())
            });
        };
        let wrong = || format!("`{name}` takes {how}");
        let strings = |n: usize| -> Option<Vec<&str>> {
            let list = p.as_array().filter(|l| l.len() == n)?;
            list.iter().map(toml::Value::as_str).collect()
        };
        let number = || -> Option<f64> {
            match p {
                toml::Value::Integer(i) => Some(*i as f64),
                toml::Value::Float(f) if f.is_finite() => Some(*f),
                _ => None,
            }
        };
        let one_char = |s: &str| -> Option<char> {
            let mut chars = s.chars();
            chars.next().filter(|_| chars.next().is_none())
        };
        let transform = match name {
            "replace" => strings(2).and_then(|s| {
                (!s[0].is_empty()).then(|| Transform::Replace {
                    from: s[0].to_owned(),
                    to: s[1].to_owned(),
                })
            }),
            "split" => match p.as_array().map(Vec::as_slice) {
                Some([toml::Value::String(sep), toml::Value::Integer(index)])
                    if !sep.is_empty() =>
                {
                    Some(Transform::Split {
                        separator: sep.clone(),
                        index: *index,
                    })
                }
                _ => None,
            },
            "substring" => match p.as_array().map(Vec::as_slice) {
                Some([toml::Value::Integer(start)]) => usize::try_from(*start)
                    .ok()
                    .map(|start| Transform::Substring { start, len: None }),
                Some([toml::Value::Integer(start), toml::Value::Integer(len)]) => {
                    match (usize::try_from(*start), usize::try_from(*len)) {
                        (Ok(start), Ok(len)) => Some(Transform::Substring {
                            start,
                            len: Some(len),
                        }),
                        _ => None,
                    }
                }
                _ => None,
            },
            "pad_left" | "pad_right" => match p.as_array().map(Vec::as_slice) {
                Some([toml::Value::Integer(width), toml::Value::String(fill)]) => {
                    match (usize::try_from(*width), one_char(fill)) {
                        (Ok(width), Some(fill)) if width <= MAX_PAD => Some(Transform::Pad {
                            width,
                            fill,
                            left: name == "pad_left",
                        }),
                        _ => None,
                    }
                }
                _ => None,
            },
            "regex" => {
                let pattern = p.as_str().ok_or_else(wrong)?;
                let compiled = regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("`regex`: {e}"))?;
                return Ok(Transform::Capture(Arc::new(compiled)));
            }
            "multiply" => number().map(Transform::Multiply),
            "divide" => number().filter(|n| *n != 0.0).map(Transform::Divide),
            "round" => match p {
                toml::Value::Integer(places) if (0..=9).contains(places) => {
                    Some(Transform::Round(*places as i32))
                }
                _ => None,
            },
            "number" => p.as_table().and_then(|t| {
                let known = t.keys().all(|k| k == "decimal" || k == "thousands");
                let decimal = t.get("decimal")?.as_str().and_then(one_char)?;
                let thousands = match t.get("thousands") {
                    None => None,
                    Some(v) => Some(v.as_str().and_then(one_char)?),
                };
                (known && Some(decimal) != thousands && !decimal.is_ascii_digit())
                    .then_some(Transform::LocaleNumber { decimal, thousands })
            }),
            "convert" => {
                let units = strings(2).ok_or_else(wrong)?;
                return convert(units[0], units[1], PLACES);
            }
            _ => unreachable!("every name in WITH_PARAMETERS is compiled"),
        };
        transform.ok_or_else(wrong)
    }

    /// Applies the transform; the error is a message for an `invalid_value` finding.
    pub fn apply(&self, v: Value) -> Result<Value, std::string::String> {
        match self {
            Transform::Trim => Ok(map_str(v, |s| s.trim().to_string())),
            Transform::Upper => Ok(map_str(v, |s| s.to_uppercase())),
            Transform::Lower => Ok(map_str(v, |s| s.to_lowercase())),
            Transform::Number => to_number(v),
            Transform::String => to_string(v),
            Transform::Bool => to_bool(v),
            Transform::LocaleNumber { decimal, thousands } => {
                let Value::String(text) = &v else {
                    return to_number(v);
                };
                let plain: std::string::String = text
                    .trim()
                    .chars()
                    .filter(|c| Some(*c) != *thousands && *c != ' ' && *c != '\u{a0}')
                    .map(|c| if c == *decimal { '.' } else { c })
                    .collect();
                to_number(Value::String(plain)).map_err(|_| {
                    format!(
                        "{} is not a number written with decimal `{decimal}`",
                        preview(&v)
                    )
                })
            }
            Transform::Replace { from, to } => Ok(map_str(v, |s| s.replace(from.as_str(), to))),
            Transform::Split { separator, index } => Ok(map_str(v, |s| {
                let parts: Vec<&str> = s.split(separator.as_str()).collect();
                let at = if *index < 0 {
                    usize::try_from(index.unsigned_abs())
                        .ok()
                        .and_then(|back| parts.len().checked_sub(back))
                } else {
                    usize::try_from(*index).ok()
                };
                // A part that is not there is "not given", as an empty CSV cell.
                at.and_then(|i| parts.get(i))
                    .map_or_else(Default::default, |p| (*p).to_owned())
            })),
            Transform::Substring { start, len } => Ok(map_str(v, |s| {
                let rest = s.chars().skip(*start);
                match len {
                    Some(n) => rest.take(*n).collect(),
                    None => rest.collect(),
                }
            })),
            Transform::Pad { width, fill, left } => {
                let text = match v {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) if !s.is_empty() => s,
                    other => return Ok(other),
                };
                let missing = width.saturating_sub(text.chars().count());
                let padding: std::string::String = std::iter::repeat_n(*fill, missing).collect();
                Ok(Value::String(if *left {
                    padding + &text
                } else {
                    text + &padding
                }))
            }
            Transform::Capture(re) => {
                let Value::String(text) = &v else {
                    return Ok(v);
                };
                if text.is_empty() {
                    return Ok(v);
                }
                let caps = re
                    .captures(text)
                    .ok_or_else(|| format!("{} does not match /{}/", preview(&v), re.as_str()))?;
                let kept = caps
                    .get(1)
                    .or_else(|| caps.get(0))
                    .map_or("", |m| m.as_str());
                Ok(Value::String(kept.to_owned()))
            }
            Transform::Multiply(factor) => arithmetic(v, |f| f * factor, "multiply"),
            Transform::Divide(divisor) => arithmetic(v, |f| f / divisor, "divide"),
            Transform::Round(places) => {
                if is_blank(&v) {
                    return Ok(Value::String(std::string::String::new()));
                }
                let n = number_of(&v)
                    .and_then(|n| n.as_f64())
                    .ok_or_else(|| format!("{} is not a number to round", preview(&v)))?;
                rounded(n, *places).ok_or_else(|| format!("{} cannot be rounded", preview(&v)))
            }
            Transform::Convert {
                factor,
                from,
                places,
            } => {
                if is_blank(&v) {
                    return Ok(Value::String(std::string::String::new()));
                }
                number_of(&v)
                    .and_then(|n| n.as_f64())
                    .and_then(|f| rounded(f * factor, *places))
                    .ok_or_else(|| format!("{} is not a number of {from}", preview(&v)))
            }
        }
    }
}

fn convert(from: &str, to: &str, places: i32) -> Result<Transform, std::string::String> {
    let unit = |u: &str| {
        UNITS
            .iter()
            .find(|(_, name, _)| name.eq_ignore_ascii_case(u))
    };
    let known = || {
        UNITS
            .iter()
            .map(|(kind, name, _)| format!("{name} ({kind})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (Some(a), Some(b)) = (unit(from), unit(to)) else {
        return Err(format!("`convert`: unknown unit; known: {}", known()));
    };
    if a.0 != b.0 {
        return Err(format!(
            "`convert`: {} is a unit of {} and {} one of {}",
            a.1, a.0, b.1, b.0
        ));
    }
    Ok(Transform::Convert {
        factor: a.2 / b.2,
        from: a.1,
        places,
    })
}

fn is_blank(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.trim().is_empty())
}

fn arithmetic(v: Value, f: impl Fn(f64) -> f64, what: &str) -> Result<Value, std::string::String> {
    if is_blank(&v) {
        return Ok(Value::String(std::string::String::new()));
    }
    number_of(&v)
        .and_then(|n| n.as_f64())
        .map(f)
        .filter(|r| r.is_finite())
        .and_then(|r| rounded(r, PLACES))
        .ok_or_else(|| format!("{} is not a number to {what}", preview(&v)))
}

fn map_str(v: Value, f: impl Fn(&str) -> std::string::String) -> Value {
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

fn to_number(v: Value) -> Result<Value, std::string::String> {
    if is_blank(&v) {
        return Ok(Value::String(std::string::String::new()));
    }
    number_of(&v).ok_or_else(|| format!("{} is not a number", preview(&v)))
}

fn to_string(v: Value) -> Result<Value, std::string::String> {
    match v {
        Value::String(_) => Ok(v),
        Value::Number(n) => Ok(Value::String(n.to_string())),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        other => Err(format!("expected text, found {}", type_name(&other))),
    }
}

fn to_bool(v: Value) -> Result<Value, std::string::String> {
    let text = match &v {
        Value::Bool(_) => return Ok(v),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_lowercase(),
        _ => std::string::String::new(),
    };
    match text.as_str() {
        "true" | "yes" | "y" | "1" | "ja" | "j" | "x" => Ok(Value::Bool(true)),
        "false" | "no" | "n" | "0" | "nein" => Ok(Value::Bool(false)),
        "" if v.is_string() => Ok(Value::String(std::string::String::new())),
        _ => Err(format!("{} is not a yes/no value", preview(&v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(entry: &str) -> Transform {
        let file: toml::Table = toml::from_str(&format!("t = {entry}")).unwrap();
        Transform::compile(&file["t"]).unwrap_or_else(|e| panic!("{entry}: {e}"))
    }

    fn refused(entry: &str) -> std::string::String {
        let file: toml::Table = toml::from_str(&format!("t = {entry}")).unwrap();
        Transform::compile(&file["t"]).expect_err(entry)
    }

    #[test]
    fn pounds_become_kilograms_to_the_gram() {
        assert_eq!(t(r#""lb_to_kg""#).apply(json!(88.2)), Ok(json!(40.007)));
        assert_eq!(t(r#""inch_to_cm""#).apply(json!(10)), Ok(json!(25.4)));
        assert_eq!(t(r#""lb_to_kg""#).apply(json!("26.5")), Ok(json!(12.02)));
        assert!(t(r#""lb_to_kg""#).apply(json!("heavy")).is_err());
    }

    #[test]
    fn text_transforms_leave_other_types_alone() {
        assert_eq!(t(r#""upper""#).apply(json!(" gb ")), Ok(json!(" GB ")));
        assert_eq!(t(r#""trim""#).apply(json!(5)), Ok(json!(5)));
        assert_eq!(t(r#""number""#).apply(json!(" 12 ")), Ok(json!(12)));
        assert!(t(r#""number""#).apply(json!("1e999")).is_err());
        assert_eq!(t(r#""bool""#).apply(json!("Yes")), Ok(json!(true)));
    }

    #[test]
    fn numbers_written_the_local_way_are_read() {
        let de = t(r#"{ number = { decimal = ",", thousands = "." } }"#);
        assert_eq!(de.apply(json!("1.234,5")), Ok(json!(1234.5)));
        assert_eq!(de.apply(json!("12")), Ok(json!(12)));
        assert_eq!(de.apply(json!("")), Ok(json!("")));
        assert!(de.apply(json!("1,2,3")).is_err());
        let fr = t(r#"{ number = { decimal = "," } }"#);
        assert_eq!(fr.apply(json!("1 234,5")), Ok(json!(1234.5)));
    }

    #[test]
    fn text_is_replaced_split_cut_padded_and_captured() {
        assert_eq!(
            t(r#"{ replace = [",", "."] }"#).apply(json!("1,5")),
            Ok(json!("1.5"))
        );
        let split = t(r#"{ split = ["/", 1] }"#);
        assert_eq!(
            split.apply(json!("NL/Rotterdam/DC1")),
            Ok(json!("Rotterdam"))
        );
        assert_eq!(
            t(r#"{ split = ["/", -1] }"#).apply(json!("a/b/c")),
            Ok(json!("c"))
        );
        assert_eq!(
            t(r#"{ split = ["/", 5] }"#).apply(json!("a/b")),
            Ok(json!(""))
        );
        assert_eq!(
            t(r#"{ split = ["/", -5] }"#).apply(json!("a/b")),
            Ok(json!(""))
        );
        assert_eq!(
            t("{ substring = [2, 3] }").apply(json!("ÄBCDEFG")),
            Ok(json!("CDE"))
        );
        assert_eq!(
            t("{ substring = [4] }").apply(json!("PFX-123")),
            Ok(json!("123"))
        );
        assert_eq!(
            t(r#"{ pad_left = [6, "0"] }"#).apply(json!(42)),
            Ok(json!("000042"))
        );
        assert_eq!(
            t(r#"{ pad_right = [4, "."] }"#).apply(json!("ab")),
            Ok(json!("ab.."))
        );
        assert_eq!(
            t(r#"{ pad_left = [2, "0"] }"#).apply(json!("12345")),
            Ok(json!("12345"))
        );
        let capture = t(r#"{ regex = "^SO-(\\d+)$" }"#);
        assert_eq!(capture.apply(json!("SO-778120")), Ok(json!("778120")));
        assert!(
            capture
                .apply(json!("PO-1"))
                .unwrap_err()
                .contains("does not match")
        );
        assert_eq!(
            t(r#"{ regex = "\\d+" }"#).apply(json!("ab12cd")),
            Ok(json!("12"))
        );
    }

    #[test]
    fn arithmetic_and_units_drop_floating_point_noise() {
        assert_eq!(
            t("{ multiply = 0.001 }").apply(json!(1234)),
            Ok(json!(1.234))
        );
        assert_eq!(t("{ divide = 1000 }").apply(json!("2500")), Ok(json!(2.5)));
        assert_eq!(t("{ round = 1 }").apply(json!(2.46)), Ok(json!(2.5)));
        assert_eq!(t("{ round = 0 }").apply(json!("7.5")), Ok(json!(8)));
        assert_eq!(
            t(r#"{ convert = ["g", "kg"] }"#).apply(json!(12500)),
            Ok(json!(12.5))
        );
        assert_eq!(
            t(r#"{ convert = ["cm", "m"] }"#).apply(json!(120)),
            Ok(json!(1.2))
        );
        assert_eq!(
            t(r#"{ convert = ["l", "m3"] }"#).apply(json!(1500)),
            Ok(json!(1.5))
        );
        assert_eq!(
            t(r#"{ convert = ["oz", "g"] }"#).apply(json!(16)),
            Ok(json!(453.59237))
        );
        assert!(t("{ multiply = 2 }").apply(json!("many")).is_err());
        assert_eq!(t("{ multiply = 2 }").apply(json!("")), Ok(json!("")));
    }

    #[test]
    fn bad_parameters_say_what_is_accepted() {
        assert!(refused(r#"{ replace = [","] }"#).contains("[from, to]"));
        assert!(refused("{ divide = 0 }").contains("other than 0"));
        assert!(
            refused(r#"{ convert = ["g", "m"] }"#)
                .contains("g is a unit of mass and m one of length")
        );
        assert!(refused(r#"{ convert = ["stone", "kg"] }"#).contains("unknown unit"));
        assert!(refused("{ round = 12 }").contains("0 to 9"));
        assert!(refused(r#"{ regex = "(" }"#).contains("regex"));
        assert!(refused(r#""replace""#).contains("takes parameters"));
        assert!(refused(r#"{ trim = true }"#).contains("takes no parameters"));
        assert!(refused(r#""reverse""#).contains("unknown transform `reverse`"));
        assert!(refused(r#"{ number = { decimal = ",", thousands = "," } }"#).contains("decimal"));
        assert!(refused(r#"{ pad_left = [5000, "0"] }"#).contains("1000"));
        assert!(refused(r#"{ replace = [",", "."], trim = true }"#).contains("one key"));
    }
}
