//! Coercion of mapped scalar values to their canonical field type.

use super::datetime::{DateSpec, parse_date, parse_datetime};
use super::model::Severity;
use super::schema::{FieldType, is_country};
use super::transform::number_of;
use super::value::{preview, type_name};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use serde_json::{Map, Value};

/// MIME types a document may have.
pub(crate) const ALLOWED_MIME: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "text/plain",
    "application/xml",
];

/// What went wrong (or is doubtful) with a value.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub severity: Severity,
    pub code: &'static str,
    pub detail: String,
}

impl Problem {
    fn error(code: &'static str, detail: String) -> Self {
        Problem {
            severity: Severity::Error,
            code,
            detail,
        }
    }
}

/// Settings coercion needs.
pub(crate) struct CoerceCtx<'a> {
    pub dates: &'a DateSpec,
    pub max_document_bytes: usize,
}

/// The coerced value (if acceptable) and a problem (error or warning) if any.
pub(crate) type Coerced = (Option<Value>, Option<Problem>);

fn ok(v: Value) -> Coerced {
    (Some(v), None)
}

fn fail(code: &'static str, detail: String) -> Coerced {
    (None, Some(Problem::error(code, detail)))
}

/// Coerces `v` for field `field` of type `ty`.
pub(crate) fn coerce(v: Value, ty: FieldType, field: &str, ctx: &CoerceCtx<'_>) -> Coerced {
    match ty {
        FieldType::Str | FieldType::StrList => text(v, field),
        FieldType::NonNegative => non_negative(v, field),
        FieldType::Count => count(v, field),
        FieldType::Bool => boolean(v, field),
        FieldType::DateTime => temporal(v, field, ctx.dates, true),
        FieldType::Date => temporal(v, field, ctx.dates, false),
        FieldType::Country => country(v),
        FieldType::Enum(allowed) => enumeration(v, field, allowed),
        FieldType::Email => email(v, field),
        FieldType::Mime => mime(v),
        FieldType::Base64 => base64_content(v, ctx.max_document_bytes),
        FieldType::LabelMap => labels(v, field),
        FieldType::Object(_) | FieldType::ObjectList(_) => ok(v),
    }
}

/// Longest text a mapped field may hold: names, codes, addresses and notes are far
/// shorter, and a megabyte in one of them is abuse, not data.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;

fn text(v: Value, field: &str) -> Coerced {
    match v {
        Value::String(s) if s.len() > MAX_TEXT_CHARS && s.chars().count() > MAX_TEXT_CHARS => fail(
            "too_long",
            format!(
                "{field} holds {} characters; at most {MAX_TEXT_CHARS} are accepted",
                s.chars().count()
            ),
        ),
        Value::String(_) => ok(v),
        Value::Number(n) => ok(Value::String(n.to_string())),
        Value::Bool(b) => ok(Value::String(b.to_string())),
        other => fail(
            "invalid_value",
            format!("Expected text for {field}, found {}", type_name(&other)),
        ),
    }
}

fn non_negative(v: Value, field: &str) -> Coerced {
    let Some(n) = number_of(&v) else {
        return fail(
            "invalid_value",
            format!("{} is not a number ({field})", preview(&v)),
        );
    };
    if n.as_f64().is_some_and(|f| f < 0.0) {
        return fail(
            "negative_value",
            format!("{field} must not be negative (found {n})"),
        );
    }
    // -0 is zero; stored as it came it would read back as "-0".
    if n.as_f64() == Some(0.0) {
        return ok(Value::from(0));
    }
    ok(n)
}

fn count(v: Value, field: &str) -> Coerced {
    let (value, problem) = non_negative(v, field);
    if problem.is_some() {
        return (value, problem);
    }
    match value.as_ref().and_then(Value::as_f64) {
        Some(f) if f.fract() == 0.0 && f <= f64::from(i32::MAX) => ok(Value::from(f as i64)),
        Some(f) => fail(
            "invalid_value",
            format!(
                "{field} must be a whole number up to {} (found {f})",
                i32::MAX
            ),
        ),
        None => (value, None),
    }
}

fn boolean(v: Value, field: &str) -> Coerced {
    match &v {
        Value::Bool(_) => ok(v),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => ok(Value::Bool(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => ok(Value::Bool(false)),
        _ => fail(
            "invalid_value",
            format!("{} is not true or false ({field})", preview(&v)),
        ),
    }
}

fn temporal(v: Value, field: &str, spec: &DateSpec, with_time: bool) -> Coerced {
    let code = if with_time {
        "invalid_datetime"
    } else {
        "invalid_date"
    };
    let Some(s) = v.as_str() else {
        return fail(
            code,
            format!("Expected a date for {field}, found {}", type_name(&v)),
        );
    };
    if !with_time {
        return match parse_date(s, spec) {
            Ok(d) => ok(Value::String(d)),
            Err(e) => fail(code, e),
        };
    }
    match parse_datetime(s, spec) {
        Ok(p) => {
            let warning = p.warning.map(|detail| Problem {
                severity: Severity::Warning,
                code: "ambiguous_datetime",
                detail,
            });
            (Some(Value::String(p.value)), warning)
        }
        Err(e) => fail(code, e),
    }
}

fn country(v: Value) -> Coerced {
    let code = v
        .as_str()
        .map(|s| s.trim().to_ascii_uppercase())
        .unwrap_or_default();
    if is_country(&code) {
        ok(Value::String(code))
    } else {
        fail(
            "invalid_country",
            format!("Country {} is not an ISO 3166-1 alpha-2 code", preview(&v)),
        )
    }
}

fn enumeration(v: Value, field: &str, allowed: &[&str]) -> Coerced {
    let given = v.as_str().map(str::trim).unwrap_or_default();
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(given)) {
        Some(a) => ok(Value::String((*a).to_string())),
        None => fail(
            "invalid_value",
            format!(
                "{} is not a valid {field} (expected one of {})",
                preview(&v),
                allowed.join(", ")
            ),
        ),
    }
}

fn email(v: Value, field: &str) -> Coerced {
    let plausible = v.as_str().is_some_and(|s| {
        let s = s.trim();
        s.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
            && !s.contains(' ')
    });
    if plausible {
        return ok(v);
    }
    let warning = Problem {
        severity: Severity::Warning,
        code: "invalid_value",
        detail: format!(
            "{} does not look like an e-mail address ({field}); it was left out",
            preview(&v)
        ),
    };
    (None, Some(warning))
}

fn mime(v: Value) -> Coerced {
    let given = v.as_str().unwrap_or_default();
    let essence = given
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if ALLOWED_MIME.contains(&essence.as_str()) {
        return ok(Value::String(essence));
    }
    fail(
        "unsupported_mime",
        format!(
            "Attachment type {} is not accepted (allowed: {})",
            preview(&v),
            ALLOWED_MIME.join(", ")
        ),
    )
}

fn base64_content(v: Value, limit: usize) -> Coerced {
    let Some(s) = v.as_str() else {
        return fail(
            "invalid_base64",
            format!("Expected base64 text, found {}", type_name(&v)),
        );
    };
    let compact: std::borrow::Cow<'_, str> = if s.bytes().any(|b| b.is_ascii_whitespace()) {
        s.chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>()
            .into()
    } else {
        s.into()
    };
    // Refuse before decoding: a 1 GiB string should not be decoded just to be rejected.
    let estimate = compact.len() / 4 * 3;
    if estimate > limit.saturating_add(3) {
        return fail("too_large", too_large(estimate, limit));
    }
    match STANDARD_PAD_INDIFFERENT.decode(compact.as_bytes()) {
        Ok(bytes) if bytes.len() > limit => fail("too_large", too_large(bytes.len(), limit)),
        Ok(_) => ok(v),
        Err(e) => fail(
            "invalid_base64",
            format!("Attachment content is not valid base64: {e}"),
        ),
    }
}

fn too_large(size: usize, limit: usize) -> String {
    format!("Attachment is {size} bytes; the limit is {limit} bytes")
}

fn labels(v: Value, field: &str) -> Coerced {
    let Value::Object(entries) = v else {
        return fail(
            "invalid_value",
            format!(
                "Expected label fields (an object) for {field}, found {}",
                type_name(&v)
            ),
        );
    };
    let mut out = Map::new();
    for (name, value) in entries {
        let list = match value {
            Value::Null => Vec::new(),
            Value::Array(items) => items,
            scalar => vec![scalar],
        };
        let mut texts = Vec::with_capacity(list.len());
        for item in list {
            match text(item, field) {
                (Some(t), _) => texts.push(t),
                (None, problem) => return (None, problem),
            }
        }
        out.insert(name, Value::Array(texts));
    }
    ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> CoerceCtx<'static> {
        static SPEC: std::sync::LazyLock<DateSpec> = std::sync::LazyLock::new(DateSpec::default);
        CoerceCtx {
            dates: &SPEC,
            max_document_bytes: 16,
        }
    }

    #[test]
    fn countries_are_checked_against_iso_list() {
        assert_eq!(
            coerce(json!("gb"), FieldType::Country, "country", &ctx()).0,
            Some(json!("GB"))
        );
        let (v, p) = coerce(json!("ZZ"), FieldType::Country, "country", &ctx());
        assert!(v.is_none() && p.is_some_and(|p| p.code == "invalid_country"));
    }

    #[test]
    fn documents_respect_mime_list_and_size_limit() {
        let (_, p) = coerce(
            json!("application/x-msdownload"),
            FieldType::Mime,
            "mime_type",
            &ctx(),
        );
        assert_eq!(p.map(|p| p.code), Some("unsupported_mime"));
        let (_, p) = coerce(json!("!!!!"), FieldType::Base64, "content_base64", &ctx());
        assert_eq!(p.map(|p| p.code), Some("invalid_base64"));
        let big = base64::engine::general_purpose::STANDARD.encode([0u8; 64]);
        let (_, p) = coerce(json!(big), FieldType::Base64, "content_base64", &ctx());
        assert_eq!(p.map(|p| p.code), Some("too_large"));
        let small = base64::engine::general_purpose::STANDARD.encode([1u8; 8]);
        assert!(
            coerce(json!(small), FieldType::Base64, "content_base64", &ctx())
                .1
                .is_none()
        );
    }

    #[test]
    fn negative_quantities_are_refused() {
        let (_, p) = coerce(json!(-1), FieldType::NonNegative, "quantity", &ctx());
        assert_eq!(p.map(|p| p.code), Some("negative_value"));
        assert_eq!(
            coerce(json!("12"), FieldType::NonNegative, "quantity", &ctx()).0,
            Some(json!(12))
        );
    }
}
