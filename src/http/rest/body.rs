//! A JSON request body for the resource API: every fault answers problem+json with
//! the JSON path of the field at fault.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

use crate::error::{Error, FieldError, ProblemCode};
use crate::http::extract::RawBody;

/// Longest free-text value a resource field may hold.
pub const MAX_TEXT: usize = 1024;

/// A JSON body deserialised into `T`: not JSON is `400 malformed_json`, a field of
/// the wrong type, an unknown field or a NUL character is `422 validation_failed`
/// naming its path (`$.items[0].quantity`).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|t| t == "application/json" || t.ends_with("+json"));
        if !json {
            return Err(Error::UnsupportedMediaType(
                "expected `Content-Type: application/json`".into(),
            ));
        }
        let RawBody(bytes) = RawBody::from_request(request, state).await?;
        parse(&bytes).map(Body)
    }
}

/// A JSON Merge Patch body (RFC 7396): the change, and the members the body set
/// to `null` to clear them (`carrier`, or `driver.phone` inside an object).
#[derive(Debug)]
pub struct PatchBody<T> {
    pub change: T,
    pub nulls: Vec<String>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PatchBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let Body(value) = Body::<Value>::from_request(request, state).await?;
        let nulls = null_members(&value);
        Ok(PatchBody {
            change: from_value(value)?,
            nulls,
        })
    }
}

/// The members of an object body that are `null`, and those of its objects.
fn null_members(value: &Value) -> Vec<String> {
    let mut nulls = Vec::new();
    for (key, member) in value.as_object().into_iter().flatten() {
        match member {
            Value::Null => nulls.push(key.clone()),
            Value::Object(inner) => nulls.extend(
                inner
                    .iter()
                    .filter(|(_, v)| v.is_null())
                    .map(|(k, _)| format!("{key}.{k}")),
            ),
            _ => {}
        }
    }
    nulls
}

/// Parses a body: syntax first (400), then shape (422 with a path).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::BadRequest {
        code: ProblemCode::MalformedJson,
        detail: format!("the body is not valid JSON: {e}"),
    })?;
    if let Some(path) = nul_at(&value, "$".to_string()) {
        return Err(invalid(
            path,
            "holds a NUL character (\\u0000), which is not accepted".into(),
        ));
    }
    if let Some((path, length)) = too_long(&value, "$".to_string()) {
        return Err(invalid(
            path,
            format!("is {length} characters long; at most {MAX_TEXT} are accepted"),
        ));
    }
    from_value(value)
}

/// The shape of a parsed body (422 with a path).
fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = json_path(&e.path().to_string());
        let (path, detail) = plain(path, e.into_inner().to_string());
        invalid(path, detail)
    })
}

/// serde's wording in plain words (`expected a number, found the text "3"` rather
/// than `invalid type: string "3", expected f64`); a missing or unknown field is
/// named in the path itself.
fn plain(path: String, message: String) -> (String, String) {
    // serde_path_to_error already ends the path with an unknown field's name.
    let field = |name: &str| match path.ends_with(&format!(".{name}")) {
        true => path.clone(),
        false => format!("{path}.{name}"),
    };
    if let Some(name) = between(&message, "missing field `", "`") {
        return (field(name), "is required".into());
    }
    if let Some(name) = between(&message, "unknown field `", "`") {
        let known = message
            .split_once("expected ")
            .map(|(_, rest)| rest.replace("one of ", ""));
        let detail = match known {
            Some(fields) => format!("is not a field here; the fields are {fields}"),
            None => "is not a field here".into(),
        };
        return (field(name), detail);
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            return (
                path,
                format!(
                    "expected {}, found {}",
                    expected_words(expected),
                    found_words(found)
                ),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let expected = expected.replace("one of ", "");
        return (path, format!("{found} is not one of {expected}"));
    }
    (path, message)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn expected_words(expected: &str) -> String {
    match expected {
        "f64" | "f32" => "a number".into(),
        "u64" | "u32" | "u16" | "u8" | "usize" => "a whole number, 0 or more".into(),
        "i64" | "i32" | "i16" | "i8" | "isize" => "a whole number".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        e if e.starts_with("struct ") => "an object".into(),
        e => e.to_owned(),
    }
}

fn found_words(found: &str) -> String {
    let quoted = |prefix: &str| found.strip_prefix(prefix).map(|v| v.trim_matches('`'));
    if let Some(text) = found.strip_prefix("string ") {
        return format!("the text {text}");
    }
    if let Some(n) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return format!("the number {n}");
    }
    if let Some(b) = quoted("boolean ") {
        return b.to_owned();
    }
    match found {
        "sequence" => "a list".into(),
        "map" => "an object".into(),
        "unit value" => "null".into(),
        other => other.to_owned(),
    }
}

/// Serde: an optional nested object. Serde's derived structs also read an array,
/// field by field in order; a body that sends one where an object belongs is refused.
/// The object is read through the same map access, so an error inside it keeps its
/// full path (`$.shipper.country`).
pub fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    use std::marker::PhantomData;

    use serde::de::{MapAccess, Visitor, value::MapAccessDeserializer};

    struct Nullable<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Nullable<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(Object(PhantomData)).map(Some)
        }
    }
    struct Object<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_option(Nullable(PhantomData))
}

/// Years a date may fall in: what both databases store and clients read back.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Serde: an optional RFC 3339 timestamp in the years 1 to 9999.
pub fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<DateTime<Utc>>::deserialize(d)? {
        Some(t) if !YEARS.contains(&t.year()) => Err(D::Error::custom(format!(
            "{t} is out of range: years 1 to 9999"
        ))),
        t => Ok(t),
    }
}

/// Serde: an optional date (`YYYY-MM-DD`) in the years 1 to 9999.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<NaiveDate>::deserialize(d)? {
        Some(t) if !YEARS.contains(&t.year()) => Err(D::Error::custom(format!(
            "{t} is out of range: years 1 to 9999"
        ))),
        t => Ok(t),
    }
}

/// A `422 validation_failed` naming one field.
pub fn invalid(path: String, detail: String) -> Error {
    let field = FieldError::new(path, detail);
    Error::Invalid {
        code: ProblemCode::ValidationFailed,
        detail: format!("{}: {}", field.path, field.detail),
        errors: vec![field],
    }
}

/// serde_path_to_error's `a.b[0].c` (or `.` for the root) as a JSONPath.
fn json_path(path: &str) -> String {
    match path {
        "." | "" => "$".into(),
        p if p.starts_with('[') => format!("${p}"),
        p => format!("$.{p}"),
    }
}

fn nul_at(value: &Value, here: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(here),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, format!("{here}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let at = format!("{here}.{k}");
            if k.contains('\0') {
                Some(at)
            } else {
                nul_at(v, at)
            }
        }),
        _ => None,
    }
}

fn too_long(value: &Value, here: String) -> Option<(String, usize)> {
    match value {
        Value::String(s) => {
            let length = s.chars().count();
            (length > MAX_TEXT).then_some((here, length))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| too_long(v, format!("{here}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| too_long(v, format!("{here}.{k}"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        quantity: f64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Line>,
    }

    fn path_of(error: Error) -> String {
        match error {
            Error::Invalid { errors, .. } => errors[0].path.clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn faults_name_the_path_of_the_field() {
        let wrong = parse::<Doc>(br#"{"items":[{"quantity":1},{"quantity":"x"}]}"#);
        assert_eq!(path_of(wrong.unwrap_err()), "$.items[1].quantity");
        let nul = parse::<Doc>(b"{\"items\":[{\"quantity\":1,\"note\":\"a\\u0000\"}]}");
        assert_eq!(path_of(nul.unwrap_err()), "$.items[0].note");
        let unknown = parse::<Doc>(br#"{"items":[],"extra":1}"#);
        assert_eq!(path_of(unknown.unwrap_err()), "$.extra");
        let missing = parse::<Doc>(br#"{"items":[{}]}"#).unwrap_err();
        assert_eq!(missing.to_string(), "$.items[0].quantity: is required");
        let typed = parse::<Doc>(br#"{"items":[{"quantity":"3"}]}"#).unwrap_err();
        assert_eq!(
            typed.to_string(),
            r#"$.items[0].quantity: expected a number, found the text "3""#
        );
        let unknown = parse::<Doc>(br#"{"items":[],"extra":1}"#).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "$.extra: is not a field here; the fields are `items`"
        );
        let syntax = parse::<Doc>(b"{").unwrap_err();
        assert_eq!(syntax.code(), ProblemCode::MalformedJson);
    }
}
